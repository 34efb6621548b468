// The Build's phase as a pure function of the Build (spec, the agent's step records, what the controller
// recorded before) and its pod. The agent writes only status.steps; everything here is the controller's.
// Infrastructure trouble (eviction, OOM, a lost pod, containers that never start, image pulls,
// unschedulable) is Errored, never Succeeded; a step that fails is Failed, naming the step.
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { type Build, type BuildPhase, type BuildStatus, isFinished } from "../../api/build.ts";
import { formatDuration } from "../../api/duration.ts";
import { ANNOTATIONS } from "../../api/group.ts";
import { CONTAINERS, EXIT, MANIFEST_STEP } from "../../api/pod-protocol.ts";
import { timeoutSeconds } from "./build-pod.ts";
import { REVIVING } from "./revive.ts";

/** The part of status the controller owns (never steps or reported). */
export type OwnedStatus = Pick<
  BuildStatus,
  | "phase"
  | "reason"
  | "message"
  | "podName"
  | "startTime"
  | "completionTime"
  | "duration"
  | "observedGeneration"
>;

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

export interface StatusLimits {
  unschedulableTimeoutMs: number;
  startTimeoutMs: number;
}

export interface StatusDecision {
  status: OwnedStatus;
  /** Stop the pod: the build is over but its pod may still run (cancel, timeout, infrastructure error). */
  deletePod: boolean;
  /** Look again after this long: a timeout or limit falls due then. */
  requeueAfterMs?: number;
}

const MAX_MESSAGE = 1000;

export function owned(status: BuildStatus | undefined): OwnedStatus {
  const out: OwnedStatus = {};
  for (const field of OWNED_FIELDS) {
    if (status?.[field] !== undefined) (out as Record<string, unknown>)[field] = status[field];
  }
  return out;
}

export function cancelRequested(build: Build): "spec" | "annotation" | undefined {
  if (build.spec.cancel) return "spec";
  const annotation = build.metadata.annotations?.[ANNOTATIONS.cancel];
  if (annotation !== undefined && annotation !== "false") return "annotation";
  return undefined;
}

function clip(text: string): string {
  const t = text.trim();
  return t.length > MAX_MESSAGE ? `${t.slice(0, MAX_MESSAGE - 1)}…` : t;
}

/** Finishes the build: phase, reason, message, completion time and duration. */
export function finish(
  build: Build,
  phase: BuildPhase,
  reason: string,
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

function progress(build: Build, phase: BuildPhase, reason: string, message: string): OwnedStatus {
  return {
    ...owned(build.status),
    phase,
    reason,
    message: clip(message),
    observedGeneration: build.metadata.generation,
  };
}

function podDone(pod: V1Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

function allStatuses(pod: V1Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

function failedStep(build: Build) {
  return build.status?.steps?.find((s) => s.phase === "Failed" || s.phase === "TimedOut");
}

function stepFailure(build: Build, now: number): OwnedStatus | undefined {
  const step = failedStep(build);
  if (!step) return undefined;
  if (step.name === MANIFEST_STEP) {
    return finish(build, "Failed", "InvalidManifest", step.message ?? `${MANIFEST_STEP} is invalid`, now);
  }
  const how = step.phase === "TimedOut" ? "timed out" : `failed with exit code ${step.exitCode ?? "unknown"}`;
  return finish(build, "Failed", "StepFailed", `step "${step.name}" ${how}`, now);
}

function terminated(statuses: V1ContainerStatus[], name: string) {
  return statuses.find((s) => s.name === name)?.state?.terminated;
}

function podFailed(build: Build, pod: V1Pod, now: number): StatusDecision {
  const statuses = allStatuses(pod);
  const done = (phase: BuildPhase, reason: string, message: string, deletePod = false): StatusDecision => ({
    status: finish(build, phase, reason, message, now),
    deletePod,
  });
  if (pod.status?.reason === "Evicted")
    return done("Errored", "Evicted", pod.status.message ?? "the pod was evicted");
  if (pod.status?.reason === "DeadlineExceeded") {
    return done("TimedOut", "TimedOut", `the build ran longer than its timeout (${build.spec.timeout})`);
  }
  const oom = statuses.find((s) => s.state?.terminated?.reason === "OOMKilled");
  if (oom) return done("Errored", "OOMKilled", `container "${oom.name}" ran out of memory and was killed`);
  const fetch = terminated(statuses, CONTAINERS.fetch);
  if (fetch && fetch.exitCode !== 0) {
    return done(
      "Errored",
      "FetchFailed",
      `fetching the commit failed: ${fetch.message ?? `exit code ${fetch.exitCode}`}`,
    );
  }
  const agent = terminated(statuses, CONTAINERS.agent);
  const step = stepFailure(build, now);
  if (step) return { status: step, deletePod: false };
  if (agent?.exitCode === EXIT.cancelled)
    return done("Cancelled", "Cancelled", "the agent stopped the build");
  if (agent?.exitCode === EXIT.failed || agent?.exitCode === EXIT.invalidManifest) {
    return done("Failed", "StepFailed", agent.message ?? "a step failed");
  }
  const detail = agent
    ? `the agent exited with code ${agent.exitCode}${agent.message ? `: ${agent.message}` : ""}`
    : (pod.status?.message ?? "the pod failed before the agent ran");
  return done("Errored", "PodFailed", detail);
}

const FATAL_WAITING = new Set(["InvalidImageName", "CreateContainerConfigError", "CreateContainerError"]);
const PULLING = new Set(["ErrImagePull", "ImagePullBackOff"]);

function podPending(build: Build, pod: V1Pod, now: number, limits: StatusLimits): StatusDecision {
  const created = Date.parse(pod.metadata?.creationTimestamp as unknown as string);
  const age = Number.isNaN(created) ? 0 : now - created;
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
    const since = Date.parse((scheduled.lastTransitionTime as unknown as string) ?? "") || created || now;
    const left = since + limits.unschedulableTimeoutMs - now;
    if (left <= 0) {
      return {
        status: finish(
          build,
          "Errored",
          "Unschedulable",
          `no node could run the pod: ${scheduled.message ?? ""}`,
          now,
        ),
        deletePod: true,
      };
    }
    return {
      status: progress(build, "Pending", "Unschedulable", `waiting for a node: ${scheduled.message ?? ""}`),
      deletePod: false,
      requeueAfterMs: left,
    };
  }
  const statuses = allStatuses(pod);
  for (const s of statuses) {
    const waiting = s.state?.waiting;
    if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) {
      return {
        status: finish(
          build,
          "Errored",
          waiting.reason,
          `container "${s.name}": ${waiting.message ?? waiting.reason}`,
          now,
        ),
        deletePod: true,
      };
    }
  }
  const left = limits.startTimeoutMs - age;
  const pulling = statuses.find((s) => s.state?.waiting?.reason && PULLING.has(s.state.waiting.reason));
  if (pulling) {
    if (left <= 0) {
      return {
        status: finish(
          build,
          "Errored",
          "ImagePullFailed",
          `container "${pulling.name}": ${pulling.state?.waiting?.message ?? "image pull failed"}`,
          now,
        ),
        deletePod: true,
      };
    }
    return {
      status: progress(
        build,
        "Pending",
        pulling.state!.waiting!.reason!,
        `pulling the image of "${pulling.name}" failed, retrying`,
      ),
      deletePod: false,
      requeueAfterMs: left,
    };
  }
  const started = statuses.some((s) => s.state?.running || s.state?.terminated);
  if (!started && left <= 0) {
    return {
      status: finish(
        build,
        "Errored",
        "StartTimeout",
        `no container started within ${formatDuration(limits.startTimeoutMs)}`,
        now,
      ),
      deletePod: true,
    };
  }
  return {
    status: progress(
      build,
      "Pending",
      "PodPending",
      started ? "preparing the workspace" : "waiting for the pod to start",
    ),
    deletePod: false,
    requeueAfterMs: started ? undefined : left,
  };
}

function podRunning(build: Build, pod: V1Pod, now: number): StatusDecision {
  const statuses = allStatuses(pod);
  const oom = statuses.find(
    (s) => s.state?.terminated?.reason === "OOMKilled" || s.lastState?.terminated?.reason === "OOMKilled",
  );
  if (oom) {
    return {
      status: finish(
        build,
        "Errored",
        "OOMKilled",
        `container "${oom.name}" ran out of memory and was killed`,
        now,
      ),
      deletePod: true,
    };
  }
  const steps = build.status?.steps ?? [];
  const paused = steps.find((s) => s.phase === "Paused");
  if (paused)
    return {
      status: progress(build, "Paused", "Paused", paused.message ?? `paused at step "${paused.name}"`),
      deletePod: false,
    };
  const running = steps.find((s) => s.phase === "Running");
  const done = steps.filter((s) => s.phase === "Succeeded").length;
  const message = running ? `running step "${running.name}"` : done > 0 ? `${done} steps done` : "starting";
  return { status: progress(build, "Running", "Running", message), deletePod: false };
}

/** What the Build's status should be now, given its pod (undefined: there is none). */
export function buildStatus(
  build: Build,
  pod: V1Pod | undefined,
  now: number,
  limits: StatusLimits,
): StatusDecision {
  const phase = build.status?.phase;
  if (isFinished(phase)) return { status: owned(build.status), deletePod: false };
  const cancel = cancelRequested(build);
  if (cancel) {
    const how = cancel === "spec" ? "spec.cancel" : `the ${ANNOTATIONS.cancel} annotation`;
    return { status: finish(build, "Cancelled", "Cancelled", `cancelled by ${how}`, now), deletePod: true };
  }
  const startTime = build.status?.startTime ? Date.parse(build.status.startTime) : undefined;
  let deadlineLeft: number | undefined;
  if (startTime !== undefined) {
    deadlineLeft = startTime + timeoutSeconds(build) * 1000 - now;
    if (deadlineLeft <= 0) {
      return {
        status: finish(
          build,
          "TimedOut",
          "TimedOut",
          `the build ran longer than its timeout (${build.spec.timeout})`,
          now,
        ),
        deletePod: true,
      };
    }
  }
  if (build.status?.reason === REVIVING && (!pod || pod.metadata?.deletionTimestamp || podDone(pod))) {
    // The old pod is on its way out; the reconciler starts the new one once it is gone.
    return {
      status: owned(build.status),
      deletePod: pod !== undefined && !pod.metadata?.deletionTimestamp,
      requeueAfterMs: 500,
    };
  }
  let decision: StatusDecision;
  if (!pod) {
    if (build.status?.podName && (phase === "Pending" || phase === "Running" || phase === "Paused")) {
      return {
        status: finish(build, "Errored", "PodLost", `the build pod ${build.status.podName} disappeared`, now),
        deletePod: false,
      };
    }
    decision = { status: owned(build.status), deletePod: false };
  } else if (pod.metadata?.deletionTimestamp) {
    decision = {
      status: progress(build, phase ?? "Pending", "PodTerminating", "the build pod is being deleted"),
      deletePod: false,
    };
  } else {
    switch (pod.status?.phase) {
      case "Succeeded": {
        const failure = stepFailure(build, now);
        decision = {
          status:
            failure ??
            finish(
              build,
              "Succeeded",
              "Succeeded",
              `all ${build.status?.steps?.length ?? 0} steps succeeded`,
              now,
            ),
          deletePod: false,
        };
        break;
      }
      case "Failed":
        decision = podFailed(build, pod, now);
        break;
      case "Running":
        decision = podRunning(build, pod, now);
        break;
      case "Unknown":
        decision = {
          status: progress(build, phase ?? "Pending", "PodUnknown", "the pod's node is not reporting"),
          deletePod: false,
        };
        break;
      default:
        decision = podPending(build, pod, now, limits);
    }
  }
  if (pod && !decision.status.podName) {
    // An adopted pod (created by a controller that died before recording it).
    const created = pod.metadata?.creationTimestamp as unknown as string | undefined;
    decision.status = {
      ...decision.status,
      podName: pod.metadata?.name,
      startTime: decision.status.startTime ?? created ?? new Date(now).toISOString(),
    };
  }
  if (deadlineLeft !== undefined && !isFinished(decision.status.phase)) {
    decision.requeueAfterMs = Math.min(decision.requeueAfterMs ?? Number.POSITIVE_INFINITY, deadlineLeft);
  }
  return decision;
}

export interface TransitionEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** The Kubernetes Event for a phase change, if the phase changed. */
export function transitionEvent(before: OwnedStatus, after: OwnedStatus): TransitionEvent | undefined {
  if (before.phase === after.phase || after.phase === undefined) return undefined;
  // Pending follows every start within milliseconds; the Events worth a line in `kubectl describe`
  // are waiting (Queued), running, pausing and the end.
  if (after.phase === "Pending") return undefined;
  const warning = after.phase === "Failed" || after.phase === "Errored" || after.phase === "TimedOut";
  return {
    type: warning ? "Warning" : "Normal",
    reason:
      after.phase === after.reason || !after.reason
        ? after.phase
        : `${after.phase}${after.reason === "StepFailed" ? "" : ""}`,
    message:
      `${before.phase ?? "New"} → ${after.phase}${after.reason && after.reason !== after.phase ? ` (${after.reason})` : ""}: ${after.message ?? ""}`.trim(),
  };
}

/** Whether two owned statuses differ in any field. */
export function statusChanged(a: OwnedStatus, b: OwnedStatus): boolean {
  return OWNED_FIELDS.some((f) => a[f] !== b[f]);
}
