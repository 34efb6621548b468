// What one sync of kube's deployment controller scales, as pure functions of the Deployment and its
// ReplicaSets (pkg/controller/deployment rolling.go, recreate.go, sync.go): each returns the ReplicaSet
// size changes in the order kube makes them. The shell writes them and records ScalingReplicaSet.
import {
  activeReplicaSets,
  availableReplicaCount,
  byCreation,
  byRevision,
  bySizeNewer,
  bySizeOlder,
  type Deployment,
  desired,
  findActiveOrLatest,
  isRollingUpdate,
  isSaturated,
  maxSurge,
  maxUnavailable,
  proportion,
  type ReplicaSet,
  replicaCount,
  replicasAnnotationsNeedUpdate,
  specReplicas,
} from "./deployment-util.ts";
import { scaledValue } from "./int-or-percent.ts";

export interface ScaleOp {
  name: string;
  from: number;
  to: number;
}

/** NewRSNewReplicas: how far the new set may grow now. */
export function newRSNewReplicas(
  d: Deployment,
  allRSs: (ReplicaSet | undefined)[],
  newRS: ReplicaSet,
): number {
  if (!isRollingUpdate(d)) return desired(d);
  const surge = scaledValue(d.spec.strategy?.rollingUpdate?.maxSurge ?? 0, desired(d), true);
  const current = replicaCount(allRSs);
  const maxTotal = desired(d) + surge;
  if (current >= maxTotal) return specReplicas(newRS);
  const up = Math.min(maxTotal - current, desired(d) - specReplicas(newRS));
  return specReplicas(newRS) + up;
}

const op = (rs: ReplicaSet, to: number): ScaleOp => ({ name: rs.metadata.name!, from: specReplicas(rs), to });
const resized = (rs: ReplicaSet, to: number): ReplicaSet => ({ ...rs, spec: { ...rs.spec, replicas: to } });

/** reconcileNewReplicaSet: the new set's scale change, if any. */
export function reconcileNewReplicaSet(
  d: Deployment,
  allRSs: (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
): ScaleOp | undefined {
  if (!newRS || specReplicas(newRS) === desired(d)) return undefined;
  const to = specReplicas(newRS) > desired(d) ? desired(d) : newRSNewReplicas(d, allRSs, newRS);
  return to === specReplicas(newRS) ? undefined : op(newRS, to);
}

/** reconcileOldReplicaSets: first unhealthy old replicas, then as many old ones as availability allows. */
export function reconcileOldReplicaSets(
  d: Deployment,
  allRSs: (ReplicaSet | undefined)[],
  oldRSs: ReplicaSet[],
  newRS: ReplicaSet | undefined,
): ScaleOp[] {
  if (replicaCount(oldRSs) === 0) return [];
  const minAvailable = desired(d) - maxUnavailable(d);
  const newUnavailable = specReplicas(newRS) - (newRS?.status?.availableReplicas ?? 0);
  const maxScaledDown = replicaCount(allRSs) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];
  const ops: ScaleOp[] = [];
  // cleanupUnhealthyReplicas: replicas that are not available go first, oldest sets first.
  const olds = [...oldRSs].sort(byCreation);
  let cleaned = 0;
  for (let i = 0; i < olds.length; i++) {
    const rs = olds[i]!;
    if (cleaned >= maxScaledDown) break;
    const available = rs.status?.availableReplicas ?? 0;
    if (specReplicas(rs) === 0 || specReplicas(rs) === available) continue;
    const down = Math.min(maxScaledDown - cleaned, specReplicas(rs) - available);
    ops.push(op(rs, specReplicas(rs) - down));
    olds[i] = resized(rs, specReplicas(rs) - down);
    cleaned += down;
  }
  // scaleDownOldReplicaSetsForRollingUpdate, on the sets as the cleanup left them.
  const all = [...olds, newRS];
  const available = availableReplicaCount(all);
  if (available > minAvailable) {
    const total = available - minAvailable;
    let scaled = 0;
    for (let i = 0; i < olds.length; i++) {
      const rs = olds[i]!;
      if (scaled >= total) break;
      if (specReplicas(rs) === 0) continue;
      const down = Math.min(specReplicas(rs), total - scaled);
      ops.push(op(rs, specReplicas(rs) - down));
      olds[i] = resized(rs, specReplicas(rs) - down);
      scaled += down;
    }
  }
  return ops;
}

export interface RolloutStep {
  ops: ScaleOp[];
  /** The Deployment is complete and old sets beyond revisionHistoryLimit may go. */
  cleanup: boolean;
}

/**
 * rolloutRolling after the new set exists: grow the new set if it may; else shrink the old ones; when
 * nothing moved and the rollout is complete, clean up. `complete` is DeploymentComplete on the stored
 * status.
 */
export function rollingStep(
  d: Deployment,
  newRS: ReplicaSet | undefined,
  oldRSs: ReplicaSet[],
  complete: boolean,
): RolloutStep {
  const all = [...oldRSs, newRS];
  const up = reconcileNewReplicaSet(d, all, newRS);
  if (up) return { ops: [up], cleanup: false };
  const down = reconcileOldReplicaSets(d, all, activeReplicaSets(oldRSs), newRS);
  if (down.length > 0) return { ops: down, cleanup: false };
  return { ops: [], cleanup: complete };
}

/**
 * rolloutRecreate: every old set to 0 first; while old pods still run, wait; then (once the shell has
 * made the new set) scale it to the desired count.
 */
export function recreateStep(
  d: Deployment,
  newRS: ReplicaSet | undefined,
  oldRSs: ReplicaSet[],
  oldPodsRunning: boolean,
  complete: boolean,
): RolloutStep & { wait: boolean; needsNewRS: boolean } {
  const downs = activeReplicaSets(oldRSs).map((rs) => op(rs, 0));
  if (downs.length > 0) return { ops: downs, cleanup: false, wait: true, needsNewRS: false };
  if (oldPodsRunning) return { ops: [], cleanup: false, wait: true, needsNewRS: false };
  if (!newRS) return { ops: [], cleanup: false, wait: false, needsNewRS: true };
  const ops = specReplicas(newRS) === desired(d) ? [] : [op(newRS, desired(d))];
  return { ops, cleanup: complete, wait: false, needsNewRS: false };
}

export interface ProportionalOp extends ScaleOp {
  /** The size is unchanged but the replicas annotations are stale: written without an event. */
  annotationsOnly: boolean;
  /** The word of the ScalingReplicaSet event ("Scaled up" / "Scaled down"). */
  up: boolean;
}

/** `scale` for a scaling event or a paused Deployment: one active set takes it all, else proportionally. */
export function proportionalScale(
  d: Deployment,
  newRS: ReplicaSet | undefined,
  oldRSs: ReplicaSet[],
): ProportionalOp[] {
  const only = findActiveOrLatest(newRS, oldRSs);
  if (only) {
    const to = desired(d);
    return specReplicas(only) === to
      ? []
      : [{ ...op(only, to), annotationsOnly: false, up: specReplicas(only) < to }];
  }
  if (isSaturated(d, newRS)) {
    return activeReplicaSets(oldRSs).map((rs) => ({ ...op(rs, 0), annotationsOnly: false, up: false }));
  }
  if (!isRollingUpdate(d)) return [];
  const all = activeReplicaSets([...oldRSs, newRS]);
  const allowed = desired(d) > 0 ? desired(d) + maxSurge(d) : 0;
  const toAdd = allowed - replicaCount(all);
  if (toAdd > 0) all.sort(bySizeNewer);
  else if (toAdd < 0) all.sort(bySizeOlder);
  let added = 0;
  const sizes = all.map((rs) => {
    if (toAdd === 0) return specReplicas(rs);
    const p = proportion(rs, d, toAdd, added);
    added += p;
    return specReplicas(rs) + p;
  });
  if (toAdd !== 0 && sizes.length > 0) sizes[0] = Math.max(0, sizes[0]! + toAdd - added);
  const ops: ProportionalOp[] = [];
  all.forEach((rs, i) => {
    const to = sizes[i]!;
    if (to !== specReplicas(rs)) ops.push({ ...op(rs, to), annotationsOnly: false, up: toAdd > 0 });
    else if (replicasAnnotationsNeedUpdate(rs, d))
      ops.push({ ...op(rs, to), annotationsOnly: true, up: toAdd > 0 });
  });
  return ops;
}

/** isScalingEvent: an active set was sized for another desired count. */
export function isScalingEvent(
  d: Deployment,
  rss: (ReplicaSet | undefined)[],
  desiredOf: (rs: ReplicaSet) => number | undefined,
): boolean {
  return activeReplicaSets(rss).some((rs) => {
    const want = desiredOf(rs);
    return want !== undefined && want !== desired(d);
  });
}

/** cleanupDeployment: the oldest old sets beyond revisionHistoryLimit that have no replicas left. */
export function cleanupCandidates(d: Deployment, oldRSs: ReplicaSet[]): string[] {
  const limit = d.spec.revisionHistoryLimit;
  if (limit === undefined) return [];
  const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
  const diff = alive.length - limit;
  if (diff <= 0) return [];
  return alive
    .sort(byRevision)
    .slice(0, diff)
    .filter(
      (rs) =>
        (rs.status?.replicas ?? 0) === 0 &&
        specReplicas(rs) === 0 &&
        (rs.metadata.generation ?? 0) <= (rs.status?.observedGeneration ?? 0),
    )
    .map((rs) => rs.metadata.name!);
}
