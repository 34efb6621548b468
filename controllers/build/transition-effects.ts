// What a written phase change sets off: a Kubernetes Event and, when the build finished, its duration.
import { type Build, isFinished } from "../../api/build.ts";
import { recordEvent } from "../../lib/events.ts";
import type { KubeClient } from "../../lib/kube.ts";
import type { Logger } from "../../lib/log.ts";
import type { BuildMetrics } from "./metrics.ts";
import type { OwnedStatus } from "./owned-status.ts";
import { transitionEvent } from "./transition.ts";

/** The component name on the build controller's Events. */
export const BUILD_CONTROLLER = "kiln-build-controller";

export interface TransitionDeps {
  client: KubeClient;
  log: Logger;
  metrics: BuildMetrics;
  identity: string;
}

export function recordTransition(
  deps: TransitionDeps,
  build: Build,
  before: OwnedStatus,
  after: OwnedStatus,
  now: number,
): void {
  const { client, log } = deps;
  const event = transitionEvent(before, after);
  if (event) {
    log.info({ phase: after.phase, reason: after.reason, from: before.phase }, "build phase changed");
    // Not awaited: an Event is best effort and must not hold a worker (recordEvent never throws).
    void recordEvent(client, log, build, event, { now, component: BUILD_CONTROLLER, host: deps.identity });
  }
  if (isFinished(after.phase) && !isFinished(before.phase)) {
    const started = Date.parse(after.startTime ?? build.metadata.creationTimestamp ?? "");
    if (started)
      deps.metrics.durationSeconds.observe({ phase: after.phase }, Math.max(0, now - started) / 1000);
  }
}
