// What the pod (and the agent's step records) say of a Build still under way, as a pure function: the
// phase it shows, whether the pod should go, and when to look again. Infrastructure trouble (eviction, OOM,
// a lost pod, containers that never start, image pulls, unschedulable) is Errored, never Succeeded; a step
// that fails is Failed, naming the step. decide.ts calls this once the Build's own rules (cancel, timeout,
// revival) have had their say.

import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import type { Build, BuildPhase } from "../../api/build.ts";
import { formatDuration } from "../../api/duration.ts";
import { AGENT_ENV, CONTAINERS, EXIT, MANIFEST_STEP } from "../../api/pod-protocol.ts";
import { type BuildReason, isReason } from "../../api/reasons.ts";
import { finish, type OwnedStatus, owned, progress } from "./owned-status.ts";

export interface StatusLimits {
  unschedulableTimeoutMs: number;
  startTimeoutMs: number;
}

export interface PodVerdict {
  status: OwnedStatus;
  /** Stop the pod: the build is over but its pod may still run. */
  deletePod: boolean;
  /** Look again after this long: a limit falls due then. */
  requeueAfterMs?: number;
}

export function podDone(pod: V1Pod): boolean {
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

function podFailed(build: Build, pod: V1Pod, now: number): PodVerdict {
  const statuses = allStatuses(pod);
  const done = (phase: BuildPhase, reason: BuildReason, message: string, deletePod = false): PodVerdict => ({
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

const FATAL_WAITING = new Set<BuildReason>([
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
]);
const PULLING = new Set<BuildReason>(["ErrImagePull", "ImagePullBackOff"]);

/**
 * A `.kiln.yaml` secret whose Secret (or key) is not there, as the kubelet says it when it cannot make the
 * build container's env (CreateContainerConfigError; the messages are the kubelet's own): the entries
 * that name it, by their index in `.kiln.yaml` (the build container's secretKeyRef variables are in that
 * order). The controller may not read Secrets itself, so the kubelet's word is how it knows.
 */
export function missingSecret(pod: V1Pod, status: V1ContainerStatus): string | undefined {
  const waiting = status.state?.waiting;
  if (status.name !== CONTAINERS.build || waiting?.reason !== "CreateContainerConfigError") return undefined;
  const text = waiting.message ?? "";
  const noSecret = /^secrets? "([^"]+)" not found$/.exec(text);
  const noKey = /^couldn't find key (.+) in Secret [^/]+\/(.+)$/.exec(text);
  const name = noSecret?.[1] ?? noKey?.[2];
  if (name === undefined) return undefined;
  const spec = pod.spec?.containers ?? [];
  const refs = (spec.find((c) => c.name === CONTAINERS.build)?.env ?? []).filter(
    (e) => e.valueFrom?.secretKeyRef,
  );
  const file =
    spec.find((c) => c.name === CONTAINERS.agent)?.env?.find((e) => e.name === AGENT_ENV.manifest)?.value ??
    ".kiln.yaml";
  const entries = refs
    .map((e, i) => ({ i, env: e.name, ref: e.valueFrom!.secretKeyRef! }))
    .filter((x) => x.ref.name === name && (noKey === null || x.ref.key === noKey[1]));
  if (entries.length === 0) return undefined;
  const which = entries.map((x) => `secrets[${x.i}] (${x.env})`).join(", ");
  const namespace = pod.metadata?.namespace ?? "";
  const needs = entries.length === 1 ? "needs" : "need";
  return noKey
    ? `${file}: ${which} ${needs} key "${noKey[1]}" of Secret "${name}", which has no such key; no step ran`
    : `${file}: ${which} ${needs} Secret "${name}", which is not in namespace ${namespace}; no step ran`;
}

/** An infrastructure failure while the pod is not running yet (or any more): Errored, the pod stopped. */
function errored(build: Build, reason: BuildReason, message: string, now: number): PodVerdict {
  return { status: finish(build, "Errored", reason, message, now), deletePod: true };
}

/** Still Pending, saying why; look again when the limit that applies falls due. */
function pendingFor(build: Build, reason: BuildReason, message: string, requeueAfterMs?: number): PodVerdict {
  const status = progress(build, "Pending", reason, message);
  return { status, deletePod: false, ...(requeueAfterMs !== undefined && { requeueAfterMs }) };
}

function podPending(build: Build, pod: V1Pod, now: number, limits: StatusLimits): PodVerdict {
  const created = Date.parse(pod.metadata?.creationTimestamp as unknown as string);
  const age = Number.isNaN(created) ? 0 : now - created;
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
    const since = Date.parse((scheduled.lastTransitionTime as unknown as string) ?? "") || created || now;
    const left = since + limits.unschedulableTimeoutMs - now;
    const why = scheduled.message ?? "";
    if (left <= 0) return errored(build, "Unschedulable", `no node could run the pod: ${why}`, now);
    return pendingFor(build, "Unschedulable", `waiting for a node: ${why}`, left);
  }
  const statuses = allStatuses(pod);
  for (const s of statuses) {
    const secret = missingSecret(pod, s);
    // The pipeline's own mistake, not the cluster's: Failed, saying which entry to fix.
    if (secret) return { status: finish(build, "Failed", "SecretMissing", secret, now), deletePod: true };
    const waiting = s.state?.waiting;
    if (waiting && isReason(FATAL_WAITING, waiting.reason))
      return errored(
        build,
        waiting.reason,
        `container "${s.name}": ${waiting.message ?? waiting.reason}`,
        now,
      );
  }
  const left = limits.startTimeoutMs - age;
  const pulling = statuses.find((s) => isReason(PULLING, s.state?.waiting?.reason));
  if (pulling) {
    const waiting = pulling.state!.waiting!;
    if (left <= 0)
      return errored(
        build,
        "ImagePullFailed",
        `container "${pulling.name}": ${waiting.message ?? "image pull failed"}`,
        now,
      );
    return pendingFor(
      build,
      waiting.reason as BuildReason,
      `pulling the image of "${pulling.name}" failed, retrying`,
      left,
    );
  }
  const started = statuses.some((s) => s.state?.running || s.state?.terminated);
  if (started) return pendingFor(build, "PodPending", "preparing the workspace");
  if (left <= 0)
    return errored(
      build,
      "StartTimeout",
      `no container started within ${formatDuration(limits.startTimeoutMs)}`,
      now,
    );
  return pendingFor(build, "PodPending", "waiting for the pod to start", left);
}

function podRunning(build: Build, pod: V1Pod, now: number): PodVerdict {
  const statuses = allStatuses(pod);
  const oom = statuses.find(
    (s) => s.state?.terminated?.reason === "OOMKilled" || s.lastState?.terminated?.reason === "OOMKilled",
  );
  if (oom)
    return errored(build, "OOMKilled", `container "${oom.name}" ran out of memory and was killed`, now);
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

/** What the pod says of the build (undefined: it has none, or none any more). */
export function podStatus(
  build: Build,
  pod: V1Pod | undefined,
  now: number,
  limits: StatusLimits,
): PodVerdict {
  const phase = build.status?.phase;
  if (!pod) {
    if (build.status?.podName && (phase === "Pending" || phase === "Running" || phase === "Paused")) {
      return {
        status: finish(build, "Errored", "PodLost", `the build pod ${build.status.podName} disappeared`, now),
        deletePod: false,
      };
    }
    return { status: owned(build.status), deletePod: false };
  }
  let verdict: PodVerdict;
  if (pod.metadata?.deletionTimestamp) {
    verdict = {
      status: progress(build, phase ?? "Pending", "PodTerminating", "the build pod is being deleted"),
      deletePod: false,
    };
  } else {
    switch (pod.status?.phase) {
      case "Succeeded":
        verdict = {
          // The pod's exit says nothing of the steps: a failed step stays a failure.
          status:
            stepFailure(build, now) ??
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
      case "Failed":
        verdict = podFailed(build, pod, now);
        break;
      case "Running":
        verdict = podRunning(build, pod, now);
        break;
      case "Unknown":
        verdict = {
          status: progress(build, phase ?? "Pending", "PodUnknown", "the pod's node is not reporting"),
          deletePod: false,
        };
        break;
      default:
        verdict = podPending(build, pod, now, limits);
    }
  }
  if (!verdict.status.podName) {
    // A pod just created, or adopted (created by a controller that died before recording it).
    const created = pod.metadata?.creationTimestamp as unknown as string | undefined;
    verdict.status = {
      ...verdict.status,
      podName: pod.metadata?.name,
      startTime: verdict.status.startTime ?? created ?? new Date(now).toISOString(),
    };
  }
  return verdict;
}
