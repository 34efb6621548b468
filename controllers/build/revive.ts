// Reviving a build whose pod was lost to the infrastructure before any step ran: nothing of the user's
// ran, so a fresh pod is as good as the first. Bounded, and counted in an annotation on the Build so a
// restart of the controller does not reset the count.
import type { Build } from "../../api/build.ts";
import { ANNOTATIONS } from "../../api/group.ts";
import type { OwnedStatus } from "./owned-status.ts";

export const REVIVALS_ANNOTATION = ANNOTATIONS.revivals;
export const REVIVING = "Reviving";
/** Infrastructure failures that say nothing about the build itself. */
const REVIVABLE = new Set(["Evicted", "PodLost"]);

export function revivals(build: Build): number {
  const n = Number(build.metadata.annotations?.[REVIVALS_ANNOTATION] ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

export function noStepStarted(build: Build): boolean {
  return (build.status?.steps ?? []).every((s) => s.phase === "Pending");
}

/**
 * The status to write instead of `decided` when the build should get a new pod, or undefined when
 * `decided` stands (as it does once maxRevivals are used up: then its message says so).
 */
export function revive(build: Build, decided: OwnedStatus, maxRevivals: number): OwnedStatus | undefined {
  if (decided.phase !== "Errored" || !REVIVABLE.has(decided.reason ?? "") || !noStepStarted(build))
    return undefined;
  const done = revivals(build);
  if (done >= maxRevivals) return undefined;
  return {
    ...decided,
    phase: "Pending",
    reason: REVIVING,
    message: `${decided.message} before any step ran; starting a new pod (${done + 1} of ${maxRevivals})`,
    completionTime: undefined,
    duration: undefined,
  };
}
