// The build controller's I/O shell: read from the caches → decide (decide.ts, pure) → carry out the one
// action → write the status once, last of the writes that record → Event and metrics of the transition →
// history pruning. What creates (the pod) is done before the status that records it; what destroys (the
// pod, a revival's old pod) after, so a status write refused as stale (409) destroys nothing. Kiln's labels
// a hand-made Build lacks are added after the status too. Safe to run again at any moment: every step is
// idempotent.
import type { V1Pod } from "@kubernetes/client-node";
import { type Build, isFinished } from "../../api/build.ts";
import { labelsToMend } from "../../api/new-build.ts";
import type { Repository } from "../../api/repository.ts";
import type { KubeClient } from "../../lib/kube.ts";
import { isNotFound } from "../../lib/kube-errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { Clock } from "../../lib/runtime/clock.ts";
import type { Reconciler } from "../../lib/runtime/controller.ts";
import { TerminalError } from "../../lib/runtime/errors.ts";
import type { Informer } from "../../lib/runtime/informer.ts";
import { decide } from "./decide.ts";
import type { DecideConfig, DecideInput } from "./decision.ts";
import { InFlight } from "./in-flight.ts";
import { ACTIVE_BY_REPOSITORY, repositoryIndexKey } from "./indexes.ts";
import { buildPath, podPath } from "./kube-paths.ts";
import type { ParsedManifest } from "./manifest-source.ts";
import type { BuildMetrics } from "./metrics.ts";
import { podName } from "./names.ts";
import { owned } from "./owned-status.ts";
import { podStarter } from "./pod-start.ts";
import { pruneHistory } from "./prune-history.ts";
import { REVIVALS_ANNOTATION, REVIVING } from "./revive.ts";
import { writeStatus } from "./status-writer.ts";
import { recordTransition } from "./transition-effects.ts";

export interface BuildReconcilerDeps {
  client: KubeClient;
  builds: Informer<Build>;
  repositories: Informer<Repository>;
  pods: Informer<V1Pod>;
  manifests: { read(repository: Repository, sha: string): Promise<ParsedManifest> };
  config: DecideConfig & { identity: string };
  clock: Clock;
  log: Logger;
  metrics: BuildMetrics;
}

const notFound = (err: unknown) => {
  if (!isNotFound(err)) throw err;
  return undefined;
};

export function buildReconciler(deps: BuildReconcilerDeps): Reconciler {
  const { client, builds, repositories, pods, clock, config, log } = deps;
  const inFlight = new InFlight();
  const start = podStarter(deps, inFlight);
  const keyOf = (b: Build) => `${b.metadata.namespace}/${b.metadata.name}`;
  const holdsSlot = (b: Build) =>
    b.status?.podName !== undefined ||
    inFlight.isStarting(keyOf(b)) ||
    pods.get(b.metadata.namespace!, podName(b.metadata.name!)) !== undefined;

  /** The Build's pod when the cache lacks it: our own create the cache has not shown, else the API's word. */
  async function uncachedPod(build: Build, key: string): Promise<V1Pod | undefined> {
    const recorded = build.status?.podName;
    // A finished build needs no lost pod found: only one the cache shows may still need stopping.
    if (!recorded || isFinished(build.status?.phase)) return undefined;
    // A revived build's remembered pod is the old one.
    const mine = build.status?.reason === REVIVING ? undefined : inFlight.pod(key);
    return mine ?? client.get<V1Pod>(podPath(build.metadata.namespace!, recorded)).catch(notFound);
  }

  async function deletePod(pod: V1Pod): Promise<void> {
    const path = podPath(pod.metadata!.namespace!, pod.metadata!.name);
    await client.delete(path, { uid: pod.metadata?.uid }).catch(notFound);
  }

  return async ({ namespace, name }) => {
    const key = `${namespace}/${name}`;
    const build = builds.get(namespace, name);
    if (!build || build.metadata.deletionTimestamp) return inFlight.forget(key);
    const cached = pods.get(namespace, podName(name));
    inFlight.settle(key, build, cached);
    const repository = repositories.get(namespace, build.spec.repository);
    const input: DecideInput = {
      build,
      pod: cached ?? (await uncachedPod(build, key)),
      siblings: builds.byIndex(ACTIVE_BY_REPOSITORY, repositoryIndexKey(build)),
      repository,
      now: clock.now(),
      config,
      holdsSlot,
    };
    let decision = decide(input);
    let failure: unknown;
    const { kind } = decision.action;
    if (kind === "readManifest" || kind === "createPod")
      ({ decision, failure } = await start(input, decision, key));
    const before = owned(build.status);
    const { status, action } = decision;
    const written = await writeStatus(client, build, before, status);
    // A Build written by hand has none of Kiln's labels (the COMMIT column is one); after the status,
    // whose write is guarded by the resourceVersion this moves.
    const labels = labelsToMend(build);
    if (labels) await client.mergePatch(buildPath(build), { metadata: { labels } }).catch(notFound);
    if (action.kind === "deletePod") await deletePod(action.pod);
    if (action.kind === "revive") {
      // After the status (which carries the resourceVersion check): a crash in between costs one extra
      // revival at most, never a lost count that would allow endless ones.
      const annotations = { [REVIVALS_ANNOTATION]: String(action.revivals) };
      await client.mergePatch(buildPath(build), { metadata: { annotations } });
      inFlight.forget(key);
      if (action.pod) await deletePod(action.pod);
      log.info({ revival: action.revivals, message: status.message }, "reviving build with a new pod");
    }
    if (written) {
      const now = clock.now();
      recordTransition({ ...deps, identity: config.identity }, build, before, status, now);
      if (repository && isFinished(status.phase) && !isFinished(before.phase))
        await pruneHistory(deps, { ...build, status: { ...build.status, ...status } }, repository);
    }
    if (isFinished(status.phase)) inFlight.forget(key);
    if (decision.terminal) throw new TerminalError(status.reason ?? "Terminal", status.message ?? "");
    if (decision.retry) throw failure ?? new Error(status.message);
    return decision.requeueAfterMs === undefined ? undefined : { requeueAfter: decision.requeueAfterMs };
  };
}
