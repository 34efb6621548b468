// A Deployment's status as kube's deployment controller computes it (sync.go calculateStatus,
// syncRolloutStatus, checkPausedConditions, requeueStuckDeployment): replica counts, the Available
// condition, the Progressing condition's reasons, promoted ReplicaFailure, and when to look again.
import { isDeepStrictEqual } from "node:util";
import { timestamp } from "../object-meta.ts";
import {
  actualReplicaCount,
  availableReplicaCount,
  type Deployment,
  type DeploymentCondition,
  type DeploymentStatus,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  desired,
  getCondition,
  hasProgressDeadline,
  maxUnavailable,
  newDeploymentCondition,
  type ReplicaSet,
  readyReplicaCount,
  removeCondition,
  replicaCount,
  setCondition,
} from "./deployment-util.ts";

function copyStatus(s: DeploymentStatus | undefined): DeploymentStatus {
  return structuredClone(s ?? {});
}

/** calculateStatus: counts over every set, updated ones from the new set, and Available. */
export function calculateStatus(
  d: Deployment,
  allRSs: (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
  now: Date,
): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const unavailable = Math.max(0, replicaCount(allRSs) - available);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: unavailable,
  };
  // DeploymentStatus's counts are omitempty: a zero is not serialized.
  for (const k of [
    "observedGeneration",
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "unavailableReplicas",
  ] as const)
    if (!status[k]) delete status[k];
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  const conditions = copyStatus(d.status).conditions;
  if (conditions) status.conditions = conditions;
  const t = timestamp(now);
  if (available >= desired(d) - maxUnavailable(d)) {
    setCondition(
      status,
      newDeploymentCondition(
        "Available",
        "True",
        "MinimumReplicasAvailable",
        "Deployment has minimum availability.",
        t,
      ),
    );
  } else {
    setCondition(
      status,
      newDeploymentCondition(
        "Available",
        "False",
        "MinimumReplicasUnavailable",
        "Deployment does not have minimum availability.",
        t,
      ),
    );
  }
  return status;
}

/** ReplicaSetToDeploymentCondition of the new set's ReplicaFailure, else of any set's. */
function replicaFailure(
  allRSs: (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
): DeploymentCondition | undefined {
  for (const rs of [newRS, ...allRSs]) {
    const c = rs?.status?.conditions?.find((x) => x.type === "ReplicaFailure");
    if (c) {
      return {
        type: c.type,
        status: c.status,
        lastUpdateTime: c.lastTransitionTime,
        lastTransitionTime: c.lastTransitionTime,
        reason: c.reason,
        message: c.message,
      };
    }
  }
  return undefined;
}

export interface RolloutStatus {
  /** The status to write, or undefined when it is what is stored. */
  status: DeploymentStatus | undefined;
  /** requeueStuckDeployment: when the progress deadline must be checked again. */
  requeueAfterMs?: number;
}

/** syncRolloutStatus. */
export function rolloutStatus(
  d: Deployment,
  allRSs: (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
  now: Date,
): RolloutStatus {
  const s = calculateStatus(d, allRSs, newRS, now);
  const t = timestamp(now);
  if (!hasProgressDeadline(d)) removeCondition(s, "Progressing");
  const current = getCondition(d.status, "Progressing");
  const complete = s.replicas === s.updatedReplicas && current?.reason === "NewReplicaSetAvailable";
  const subject = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
  if (hasProgressDeadline(d) && !complete) {
    if (deploymentComplete(d, s)) {
      setCondition(
        s,
        newDeploymentCondition(
          "Progressing",
          "True",
          "NewReplicaSetAvailable",
          `${subject} has successfully progressed.`,
          t,
        ),
      );
    } else if (deploymentProgressing(d, s)) {
      const c = newDeploymentCondition(
        "Progressing",
        "True",
        "ReplicaSetUpdated",
        `${subject} is progressing.`,
        t,
      );
      if (current) {
        if (current.status === "True") c.lastTransitionTime = current.lastTransitionTime;
        removeCondition(s, "Progressing");
      }
      setCondition(s, c);
    } else if (deploymentTimedOut(d, s, now)) {
      setCondition(
        s,
        newDeploymentCondition(
          "Progressing",
          "False",
          "ProgressDeadlineExceeded",
          `${subject} has timed out progressing.`,
          t,
        ),
      );
    }
  }
  const failure = replicaFailure(allRSs, newRS);
  if (failure) setCondition(s, failure);
  else removeCondition(s, "ReplicaFailure");
  if (isDeepStrictEqual(JSON.parse(JSON.stringify(d.status ?? {})), JSON.parse(JSON.stringify(s)))) {
    return { status: undefined, requeueAfterMs: stuckRequeue(d, s, now) };
  }
  return { status: s };
}

/** requeueStuckDeployment: a rollout with no sign of progress is looked at when its deadline passes. */
function stuckRequeue(d: Deployment, s: DeploymentStatus, now: Date): number | undefined {
  const current = getCondition(d.status, "Progressing");
  if (!hasProgressDeadline(d) || !current) return undefined;
  if (deploymentComplete(d, s) || current.reason === "ProgressDeadlineExceeded") return undefined;
  const after =
    (Date.parse(current.lastUpdateTime ?? "") || 0) + d.spec.progressDeadlineSeconds! * 1000 - now.getTime();
  return after < 1000 ? 1000 : after + 1000;
}

/** syncDeploymentStatus: the same counts without touching Progressing (scaling and paused syncs). */
export function plainStatus(
  d: Deployment,
  allRSs: (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
  now: Date,
): DeploymentStatus | undefined {
  const s = calculateStatus(d, allRSs, newRS, now);
  return isDeepStrictEqual(JSON.parse(JSON.stringify(d.status ?? {})), JSON.parse(JSON.stringify(s)))
    ? undefined
    : s;
}

/** checkPausedConditions: Progressing Unknown DeploymentPaused / DeploymentResumed. */
export function pausedConditionStatus(d: Deployment, now: Date): DeploymentStatus | undefined {
  if (!hasProgressDeadline(d)) return undefined;
  const c = getCondition(d.status, "Progressing");
  if (c?.reason === "ProgressDeadlineExceeded") return undefined;
  const pausedExists = c?.reason === "DeploymentPaused";
  const s = copyStatus(d.status);
  const t = timestamp(now);
  if (d.spec.paused && !pausedExists) {
    setCondition(
      s,
      newDeploymentCondition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", t),
    );
    return s;
  }
  if (!d.spec.paused && pausedExists) {
    setCondition(
      s,
      newDeploymentCondition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", t),
    );
    return s;
  }
  return undefined;
}
