// Everything the build controller decides about a Build, as one pure function: from the Build, its pod,
// its Repository and the Repository's other unfinished Builds, at a given time, the status the controller
// owns and the one action to take. Nothing else in the controller sets a phase. The ladder, first match:
//   finished → stop a pod still running for a Cancelled/TimedOut/Errored build, else nothing
//   a pod of its name it does not own → Errored (PodConflict), for good
//   cancelled (spec.cancel, the annotation) → Cancelled; past its timeout → TimedOut; both delete the pod
//   reviving and the old pod going → wait for it (deleting it if it lingers), then start anew
//   otherwise what the pod says (pod-status.ts)
//   then: a newer push of its branch → Cancelled (Superseded); an infrastructure failure before any
//   step → revive; no pod yet → start (start-decision.ts: Repository, approval, slot, .kiln.yaml, pod).
import type { V1Pod } from "@kubernetes/client-node";
import { type Build, isFinished } from "../../api/build.ts";
import { ANNOTATIONS } from "../../api/group.ts";
import { timeoutSeconds } from "./build-pod.ts";
import type { Action, DecideInput, Decision } from "./decision.ts";
import { ownedBy } from "./kube-paths.ts";
import { finish, owned } from "./owned-status.ts";
import { type PodVerdict, podDone, podStatus } from "./pod-status.ts";
import { supersededBy } from "./queueing.ts";
import { REVIVING, revivals, revive } from "./revive.ts";
import { startDecision } from "./start-decision.ts";

const NOTHING: Action = { kind: "none" };
/** How soon to look again while an old pod goes or a revived build starts. */
const REVIVAL_POLL_MS = 500;

const live = (pod: V1Pod | undefined) => (pod && !pod.metadata?.deletionTimestamp ? pod : undefined);

function cancelRequested(build: Build): "spec" | "annotation" | undefined {
  if (build.spec.cancel) return "spec";
  const annotation = build.metadata.annotations?.[ANNOTATIONS.cancel];
  if (annotation !== undefined && annotation !== "false") return "annotation";
  return undefined;
}

/** What the Build's own rules say before its pod has a say: cancel, timeout, a revival under way. */
function ownRules(input: DecideInput, deadlineLeft: number | undefined): PodVerdict | undefined {
  const { build, pod, now } = input;
  const cancel = cancelRequested(build);
  if (cancel) {
    const how = cancel === "spec" ? "spec.cancel" : `the ${ANNOTATIONS.cancel} annotation`;
    return { status: finish(build, "Cancelled", "Cancelled", `cancelled by ${how}`, now), deletePod: true };
  }
  if (deadlineLeft !== undefined && deadlineLeft <= 0) {
    const message = `the build ran longer than its timeout (${build.spec.timeout})`;
    return { status: finish(build, "TimedOut", "TimedOut", message, now), deletePod: true };
  }
  if (build.status?.reason === REVIVING && (!live(pod) || podDone(pod!))) {
    // The old pod is on its way out; the new one starts once it is gone.
    return { status: owned(build.status), deletePod: true, requeueAfterMs: REVIVAL_POLL_MS };
  }
  return undefined;
}

export function decide(input: DecideInput): Decision {
  const { build, pod, now, config, repository } = input;
  const before = owned(build.status);
  if (isFinished(before.phase)) {
    const stopped = before.phase === "Cancelled" || before.phase === "TimedOut" || before.phase === "Errored";
    const running = live(pod) && !podDone(pod!) && ownedBy(pod!, build);
    return { status: before, action: stopped && running ? { kind: "deletePod", pod: pod! } : NOTHING };
  }
  if (pod && !ownedBy(pod, build)) {
    const message = `a pod named ${pod.metadata?.name} exists that this Build does not own`;
    return { status: finish(build, "Errored", "PodConflict", message, now), action: NOTHING, terminal: true };
  }
  const started = build.status?.startTime ? Date.parse(build.status.startTime) : undefined;
  const deadlineLeft = started === undefined ? undefined : started + timeoutSeconds(build) * 1000 - now;
  let verdict = ownRules(input, deadlineLeft) ?? podStatus(build, pod, now, config);
  if (!isFinished(verdict.status.phase) && repository) {
    const newer = supersededBy(build, input.siblings, repository);
    if (newer) {
      const message = `superseded by ${newer.metadata.name}, a newer build of branch ${build.spec.revision.branch}`;
      verdict = { status: finish(build, "Cancelled", "Superseded", message, now), deletePod: true };
    }
  }
  const revived = revive(build, verdict.status, config.maxRevivals);
  if (revived) {
    const action = { kind: "revive", revivals: revivals(build) + 1, pod: live(pod) } as const;
    return { status: revived, action, requeueAfterMs: REVIVAL_POLL_MS };
  }
  const phase = verdict.status.phase;
  // No pod and not over (a lost pod is over by now): new, queued again, or being revived — it starts.
  if (!pod && !isFinished(phase)) return startDecision(input);
  const doomed = verdict.deletePod ? live(pod) : undefined;
  let requeueAfterMs = verdict.requeueAfterMs;
  if (deadlineLeft !== undefined && !isFinished(phase))
    requeueAfterMs = Math.min(requeueAfterMs ?? Number.POSITIVE_INFINITY, deadlineLeft);
  return {
    status: verdict.status,
    action: doomed ? { kind: "deletePod", pod: doomed } : NOTHING,
    ...(requeueAfterMs !== undefined && { requeueAfterMs }),
  };
}
