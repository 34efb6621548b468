// The Kubernetes Event a phase change deserves (Tekton's emitReconcileEvents(before, after)).
import type { OwnedStatus } from "./owned-status.ts";

export interface TransitionEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** The Event for a phase change, if the phase changed. Its reason is the new phase. */
export function transitionEvent(before: OwnedStatus, after: OwnedStatus): TransitionEvent | undefined {
  if (before.phase === after.phase || after.phase === undefined) return undefined;
  // Pending follows every start within milliseconds; the Events worth a line in `kubectl describe`
  // are waiting (Queued), running, pausing and the end.
  if (after.phase === "Pending") return undefined;
  const warning = after.phase === "Failed" || after.phase === "Errored" || after.phase === "TimedOut";
  const why = after.reason && after.reason !== after.phase ? ` (${after.reason})` : "";
  return {
    type: warning ? "Warning" : "Normal",
    reason: after.phase,
    message: `${before.phase ?? "New"} → ${after.phase}${why}: ${after.message ?? ""}`.trim(),
  };
}
