// The build controller's I/O shell: read from the caches, decide with the pure builders beside this file,
// then act — create or adopt the pod, delete it when the build is over, write status last and only if
// it changed. Safe to run again at any moment: every step is idempotent.
import type { V1Pod } from "@kubernetes/client-node";
import { type Build, isFinished } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import type { KubeClient } from "../../lib/kube.ts";
import { isNotFound } from "../../lib/kube-errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { Clock } from "../../lib/runtime/clock.ts";
import type { Reconciler } from "../../lib/runtime/controller.ts";
import { TerminalError } from "../../lib/runtime/errors.ts";
import type { Informer } from "../../lib/runtime/informer.ts";
import type { BuildPodConfig } from "./build-pod.ts";
import { buildStatus, finish, owned, type StatusLimits } from "./build-status.ts";
import { ACTIVE_BY_REPOSITORY, repositoryIndexKey } from "./indexes.ts";
import { buildPath, ownedBy, podPath } from "./kube-paths.ts";
import type { ParsedManifest } from "./manifest-source.ts";
import type { BuildMetrics } from "./metrics.ts";
import { podName } from "./names.ts";
import { PodStarter } from "./pod-starter.ts";
import { supersededBy } from "./queueing.ts";
import { REVIVALS_ANNOTATION, REVIVING, revivals, revive } from "./revive.ts";
import { statusWriter } from "./status-writer.ts";

export interface BuildReconcilerDeps {
  client: KubeClient;
  builds: Informer<Build>;
  repositories: Informer<Repository>;
  pods: Informer<V1Pod>;
  manifests: { read(repository: Repository, sha: string): Promise<ParsedManifest> };
  config: BuildPodConfig & StatusLimits & { identity: string; maxRevivals: number };
  clock: Clock;
  log: Logger;
  metrics: BuildMetrics;
}

export function buildReconciler(deps: BuildReconcilerDeps): Reconciler {
  const { client, builds, repositories, pods, clock, config, log } = deps;
  const writeStatus = statusWriter({ ...deps, identity: config.identity });
  const starter = new PodStarter({ ...deps, writeStatus });
  const { starting, createdPods } = starter;
  const start = starter.start.bind(starter);

  async function deletePod(pod: V1Pod): Promise<void> {
    if (pod.metadata?.deletionTimestamp) return;
    await client
      .delete(podPath(pod.metadata!.namespace!, pod.metadata!.name), { uid: pod.metadata?.uid })
      .catch((err) => {
        if (!isNotFound(err)) throw err;
      });
  }

  return async ({ namespace, name }) => {
    const key = `${namespace}/${name}`;
    const build = builds.get(namespace, name);
    if (!build || build.metadata.deletionTimestamp) {
      starter.forget(key);
      return;
    }
    if (build.status?.podName) starting.delete(key);
    const before = owned(build.status);
    let pod = pods.get(namespace, podName(name));
    if (pod) createdPods.delete(key);
    if (isFinished(before.phase)) {
      starter.forget(key);
      const stopped =
        before.phase === "Cancelled" || before.phase === "TimedOut" || before.phase === "Errored";
      const podDone = pod?.status?.phase === "Succeeded" || pod?.status?.phase === "Failed";
      if (pod && stopped && !podDone && ownedBy(pod, build)) await deletePod(pod);
      return;
    }
    if (pod && !ownedBy(pod, build)) {
      const message = `a pod named ${pod.metadata?.name} exists that this Build does not own`;
      await writeStatus(build, before, finish(build, "Errored", "PodConflict", message, clock.now()));
      throw new TerminalError("PodConflict", message);
    }
    // The pod cache may lag behind our own create: ask the API before calling a pod lost.
    if (!pod && build.status?.podName && build.status.reason !== REVIVING) pod = createdPods.get(key);
    if (!pod && build.status?.podName) {
      pod = await client.get<V1Pod>(podPath(namespace, build.status.podName)).catch((err) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
    }
    const repo = repositories.get(namespace, build.spec.repository);
    let decision = buildStatus(build, pod, clock.now(), config);
    if (!isFinished(decision.status.phase) && repo) {
      const newer = supersededBy(
        build,
        builds.byIndex(ACTIVE_BY_REPOSITORY, repositoryIndexKey(build)),
        repo,
      );
      if (newer) {
        const message = `superseded by ${newer.metadata.name}, a newer build of branch ${build.spec.revision.branch}`;
        decision = {
          status: finish(build, "Cancelled", "Superseded", message, clock.now()),
          deletePod: true,
        };
      }
    }
    const revived = revive(build, decision.status, config.maxRevivals);
    if (revived) {
      await writeStatus(build, before, revived);
      // After the status (which carries the resourceVersion check): a crash in between costs one extra
      // revival at most, never a lost count that would allow endless ones.
      const count = String(revivals(build) + 1);
      await client.mergePatch(buildPath(build), {
        metadata: { annotations: { [REVIVALS_ANNOTATION]: count } },
      });
      createdPods.delete(key);
      if (pod) await deletePod(pod);
      log.info({ revival: count, reason: decision.status.reason }, "reviving build with a new pod");
      return { requeueAfter: 500 };
    }
    const reviving = build.status?.reason === REVIVING;
    if (!pod && !isFinished(decision.status.phase) && (!build.status?.podName || reviving)) {
      decision = await start(build, repo, key);
    }
    // Status first: the decision is recorded (or refused as stale) before the pod goes.
    await writeStatus(build, before, decision.status);
    if (decision.deletePod && pod) await deletePod(pod);
    return decision.requeueAfterMs === undefined ? undefined : { requeueAfter: decision.requeueAfterMs };
  };
}
