// The part of a Build's status the controller owns (the agent writes only status.steps, the reporting
// controller status.reported), and the two ways it changes: progress (still going) and finish.
import type { Build, BuildPhase, BuildStatus } from "../../api/build.ts";
import { formatDuration } from "../../api/duration.ts";
import type { BuildReason } from "../../api/reasons.ts";

export type OwnedStatus = Pick<
  BuildStatus,
  "phase" | "message" | "podName" | "startTime" | "completionTime" | "duration" | "observedGeneration"
> & { reason?: BuildReason };

export const OWNED_FIELDS = [
  "phase",
  "reason",
  "message",
  "podName",
  "startTime",
  "completionTime",
  "duration",
  "observedGeneration",
] as const satisfies readonly (keyof OwnedStatus)[];

const MAX_MESSAGE = 1000;

export function owned(status: BuildStatus | undefined): OwnedStatus {
  const out: OwnedStatus = {};
  // The reason as stored: written by this controller, so one of BUILD_REASONS.
  for (const field of OWNED_FIELDS) {
    if (status?.[field] !== undefined) (out as Record<string, unknown>)[field] = status[field];
  }
  return out;
}

function clip(text: string): string {
  const t = text.trim();
  return t.length > MAX_MESSAGE ? `${t.slice(0, MAX_MESSAGE - 1)}…` : t;
}

/** Finishes the build: phase, reason, message, completion time and duration. */
export function finish(
  build: Build,
  phase: BuildPhase,
  reason: BuildReason,
  message: string,
  now: number,
): OwnedStatus {
  const current = owned(build.status);
  const start = Date.parse(
    current.startTime ?? build.metadata.creationTimestamp ?? new Date(now).toISOString(),
  );
  return {
    ...current,
    phase,
    reason,
    message: clip(message),
    completionTime: new Date(now).toISOString(),
    duration: formatDuration(Math.max(0, now - start)),
    observedGeneration: build.metadata.generation,
  };
}

/** A phase on the way: the rest of what the controller recorded stays. */
export function progress(build: Build, phase: BuildPhase, reason: BuildReason, message: string): OwnedStatus {
  return {
    ...owned(build.status),
    phase,
    reason,
    message: clip(message),
    observedGeneration: build.metadata.generation,
  };
}

/** Whether two owned statuses differ in any field. */
export function statusChanged(a: OwnedStatus, b: OwnedStatus): boolean {
  return OWNED_FIELDS.some((f) => a[f] !== b[f]);
}
