// The build controller's I/O shell: read from the caches, decide with the pure builders beside this file,
// then act — create or adopt the pod, delete it when the build is over, write status last and only if
// it changed. Safe to run again at any moment: every step is idempotent.
import type { V1Pod } from "@kubernetes/client-node";
import { type Build, isFinished } from "../../api/build.ts";
import { API_VERSION } from "../../api/group.ts";
import type { Repository } from "../../api/repository.ts";
import { type KubeClient, resourcePath } from "../../lib/kube.ts";
import { httpStatus, isAlreadyExists, isNotFound } from "../../lib/kube-errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { Clock } from "../runtime/clock.ts";
import type { Reconciler } from "../runtime/controller.ts";
import { TerminalError } from "../runtime/errors.ts";
import type { Informer } from "../runtime/informer.ts";
import { type BuildPodConfig, buildPod } from "./build-pod.ts";
import {
  buildStatus,
  finish,
  OWNED_FIELDS,
  type OwnedStatus,
  owned,
  type StatusDecision,
  type StatusLimits,
  statusChanged,
  transitionEvent,
} from "./build-status.ts";
import { recordEvent } from "./events.ts";
import { ACTIVE_BY_REPOSITORY, FINISHED_BY_REPOSITORY, repositoryIndexKey } from "./indexes.ts";
import type { ParsedManifest } from "./manifest-source.ts";
import type { BuildMetrics } from "./metrics.ts";
import { podName } from "./names.ts";
import { admit, beyondHistory, supersededBy } from "./queueing.ts";
import { REVIVALS_ANNOTATION, REVIVING, revivals, revive } from "./revive.ts";

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

const buildPath = (b: Build) => resourcePath(API_VERSION, "builds", b.metadata.namespace, b.metadata.name);
const podPath = (ns: string, name?: string) => resourcePath("v1", "pods", ns, name);
const ownedBy = (pod: V1Pod, build: Build) =>
  pod.metadata?.ownerReferences?.some((r) => r.controller && r.uid === build.metadata.uid) ?? false;

export function buildReconciler(deps: BuildReconcilerDeps): Reconciler {
  const { client, builds, repositories, pods, clock, config, log } = deps;
  // Builds whose pod is being created: they hold a concurrency slot before the cache shows it.
  const starting = new Set<string>();
  // Pods we created that the pod cache may not show yet (the pod and Build watches are not ordered).
  const createdPods = new Map<string, V1Pod>();
  const isActive = (b: Build) =>
    b.status?.podName !== undefined ||
    starting.has(`${b.metadata.namespace}/${b.metadata.name}`) ||
    pods.get(b.metadata.namespace!, podName(b.metadata.name!)) !== undefined;

  async function deletePod(pod: V1Pod): Promise<void> {
    if (pod.metadata?.deletionTimestamp) return;
    await client
      .delete(podPath(pod.metadata!.namespace!, pod.metadata!.name), { uid: pod.metadata?.uid })
      .catch((err) => {
        if (!isNotFound(err)) throw err;
      });
  }

  async function start(build: Build, repo: Repository | undefined, key: string): Promise<StatusDecision> {
    const queued = (reason: string, message: string): StatusDecision => ({
      status: {
        ...owned(build.status),
        phase: "Queued",
        reason,
        message,
        observedGeneration: build.metadata.generation,
      },
      deletePod: false,
    });
    if (!repo) return queued("RepositoryNotFound", `waiting for Repository "${build.spec.repository}"`);
    const ns = build.metadata.namespace!;
    const admission = admit(
      build,
      builds.byIndex(ACTIVE_BY_REPOSITORY, repositoryIndexKey(build)),
      repo,
      isActive,
    );
    if (!admission.run) return queued("WaitingForSlot", admission.message);
    starting.add(key);
    try {
      let manifest: ParsedManifest;
      try {
        manifest = await deps.manifests.read(repo, build.spec.revision.sha);
      } catch (err) {
        // Retried with backoff (GitHub down, a Secret not there yet); meanwhile the Build says why.
        starting.delete(key);
        const message = `cannot read ${repo.spec.manifest} at ${build.spec.revision.sha.slice(0, 7)}, retrying: ${(err as Error).message}`;
        await writeStatus(build, owned(build.status), queued("ManifestUnavailable", message).status);
        throw err;
      }
      if (!manifest.ok) {
        starting.delete(key);
        return {
          status: finish(build, "Failed", manifest.reason, manifest.message, clock.now()),
          deletePod: false,
        };
      }
      const desired = buildPod(build, repo, manifest.pipeline, config);
      let pod: V1Pod;
      try {
        pod = await client.create<V1Pod>(podPath(ns), desired);
        createdPods.set(key, pod);
        const created = Date.parse(build.metadata.creationTimestamp ?? "");
        if (created) deps.metrics.queueSeconds.observe(Math.max(0, clock.now() - created) / 1000);
      } catch (err) {
        if (httpStatus(err) === 422) {
          starting.delete(key);
          const message = `the API server refused the build pod: ${(err as Error).message}`;
          return { status: finish(build, "Errored", "InvalidPod", message, clock.now()), deletePod: false };
        }
        if (!isAlreadyExists(err)) {
          // Retried with backoff (a missing service account or quota may be fixed); meanwhile say why.
          starting.delete(key);
          const message = `cannot create the build pod, retrying: ${(err as Error).message}`;
          await writeStatus(build, owned(build.status), queued("PodCreateFailed", message).status);
          throw err;
        }
        pod = await client.get<V1Pod>(podPath(ns, desired.metadata!.name));
        if (!ownedBy(pod, build)) {
          starting.delete(key);
          const message = `a pod named ${desired.metadata!.name} already exists and does not belong to this Build`;
          return { status: finish(build, "Errored", "PodConflict", message, clock.now()), deletePod: false };
        }
        log.info({ pod: pod.metadata?.name }, "adopted existing pod");
      }
      const status: OwnedStatus = {
        ...owned(build.status),
        // What buildStatus says of a fresh pod, so the pod's own events do not cause a second write.
        phase: "Pending",
        reason: "PodPending",
        message: "waiting for the pod to start",
        podName: pod.metadata!.name,
        startTime: build.status?.startTime ?? new Date(clock.now()).toISOString(),
        observedGeneration: build.metadata.generation,
      };
      return { status, deletePod: false, requeueAfterMs: config.startTimeoutMs };
    } catch (err) {
      starting.delete(key);
      throw err;
    }
  }

  async function writeStatus(build: Build, before: OwnedStatus, after: OwnedStatus): Promise<void> {
    if (!statusChanged(before, after)) return;
    // The resourceVersion makes a decision taken on a stale cache fail (409) instead of overwriting a
    // newer status; the retry sees the fresh object.
    const patch = {
      metadata: { resourceVersion: build.metadata.resourceVersion },
      status: Object.fromEntries(OWNED_FIELDS.map((f) => [f, after[f] ?? null])),
    };
    try {
      await client.mergePatch(`${buildPath(build)}/status`, patch);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const now = clock.now();
    const event = transitionEvent(before, after);
    if (event) {
      log.info({ phase: after.phase, reason: after.reason, from: before.phase }, "build phase changed");
      // Not awaited: an Event is best effort and must not hold a worker (recordEvent never throws).
      void recordEvent(client, log, build, event, now, config.identity);
    }
    if (isFinished(after.phase) && !isFinished(before.phase)) {
      const started = Date.parse(after.startTime ?? build.metadata.creationTimestamp ?? "");
      if (started)
        deps.metrics.durationSeconds.observe({ phase: after.phase }, Math.max(0, now - started) / 1000);
      await pruneHistory({ ...build, status: { ...build.status, ...after } });
    }
  }

  async function pruneHistory(finished: Build): Promise<void> {
    const repo = repositories.get(finished.metadata.namespace!, finished.spec.repository);
    if (!repo) return;
    const others = builds
      .byIndex(FINISHED_BY_REPOSITORY, repositoryIndexKey(finished))
      .filter((b) => b.metadata.name !== finished.metadata.name);
    for (const old of beyondHistory([...others, finished], repo)) {
      log.info({ build: old.metadata.name }, "deleting build beyond history.keep");
      await client.delete(buildPath(old), { propagationPolicy: "Background" }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }

  return async ({ namespace, name }) => {
    const key = `${namespace}/${name}`;
    const build = builds.get(namespace, name);
    if (!build || build.metadata.deletionTimestamp) {
      starting.delete(key);
      createdPods.delete(key);
      return;
    }
    if (build.status?.podName) starting.delete(key);
    const before = owned(build.status);
    let pod = pods.get(namespace, podName(name));
    if (pod) createdPods.delete(key);
    if (isFinished(before.phase)) {
      starting.delete(key);
      createdPods.delete(key);
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
          status: { ...finish(build, "Cancelled", "Superseded", message, clock.now()) },
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
