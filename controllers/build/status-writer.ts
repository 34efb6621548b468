// Writing the controller's part of a Build's status: only when it changed, guarded by the resourceVersion,
// with an Event and metrics on phase changes and the repository's history pruned when a build finishes.
import { type Build, isFinished } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import { recordEvent } from "../../lib/events.ts";
import type { KubeClient } from "../../lib/kube.ts";
import { isNotFound } from "../../lib/kube-errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { Clock } from "../../lib/runtime/clock.ts";
import type { Informer } from "../../lib/runtime/informer.ts";
import { OWNED_FIELDS, type OwnedStatus, statusChanged, transitionEvent } from "./build-status.ts";
import { FINISHED_BY_REPOSITORY, repositoryIndexKey } from "./indexes.ts";
import { buildPath } from "./kube-paths.ts";
import type { BuildMetrics } from "./metrics.ts";
import { beyondHistory } from "./queueing.ts";

/** The component name on the build controller's Events. */
export const BUILD_CONTROLLER = "kiln-build-controller";

export interface StatusWriterDeps {
  client: KubeClient;
  builds: Informer<Build>;
  repositories: Informer<Repository>;
  clock: Clock;
  log: Logger;
  metrics: BuildMetrics;
  identity: string;
}

export type StatusWriter = (build: Build, before: OwnedStatus, after: OwnedStatus) => Promise<void>;

export function statusWriter(deps: StatusWriterDeps): StatusWriter {
  const { client, builds, repositories, clock, log, identity } = deps;

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
      void recordEvent(client, log, build, event, { now, component: BUILD_CONTROLLER, host: identity });
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

  return writeStatus;
}
