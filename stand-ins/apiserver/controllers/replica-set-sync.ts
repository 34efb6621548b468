// Pure pieces of kube's ReplicaSet controller (pkg/controller/replicaset, controller_utils.go): the
// pod a ReplicaSet creates, which pods go first when it shrinks (ActivePodsWithRanks with logarithmic
// scale-down), slow-start batches, and the status it reports.
import { timestamp } from "../object-meta.ts";
import type { KubeObject } from "../storage.ts";
import { newControllerRef } from "./claims.ts";
import {
  type ReplicaSet,
  type ReplicaSetCondition,
  removeCondition,
  setCondition,
  specReplicas,
} from "./deployment-util.ts";
import { isPodActive, isPodAvailable, isPodReady, podPhase, readyCondition } from "./pod-state.ts";

/** Pods one sync creates or deletes at most (kube's BurstReplicas). */
export const BURST_REPLICAS = 500;

/** controller.GetPodFromTemplate: the template's labels, annotations, finalizers and spec, owned by the set. */
export function podFromTemplate(rs: ReplicaSet): KubeObject {
  const template = structuredClone(rs.spec.template ?? {});
  const meta = (template.metadata ?? {}) as {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
  };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: `${rs.metadata.name}-`,
      labels: meta.labels,
      annotations: meta.annotations,
      finalizers: meta.finalizers,
      ownerReferences: [newControllerRef(rs)],
    },
    spec: template.spec,
  };
}

/** slowStartBatch: 1, 2, 4, … up to `count` in all. */
export function slowStartBatches(count: number): number[] {
  const batches: number[] = [];
  let size = 1;
  let left = count;
  while (left > 0) {
    const n = Math.min(size, left);
    batches.push(n);
    left -= n;
    size *= 2;
  }
  return batches;
}

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(pod: KubeObject): number {
  const v = pod.metadata.annotations?.["controller.kubernetes.io/pod-deletion-cost"];
  if (v === undefined || !/^[-+]?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

function readySince(pod: KubeObject): number {
  if (!isPodReady(pod)) return 0;
  return Date.parse(readyCondition(pod)?.lastTransitionTime ?? "") || 0;
}

function maxRestarts(pod: KubeObject): number {
  const statuses =
    (pod.status as { containerStatuses?: { restartCount?: number }[] } | undefined)?.containerStatuses ?? [];
  return statuses.reduce((m, c) => Math.max(m, c.restartCount ?? 0), 0);
}

/** Log2 buckets of age in nanoseconds, as logarithmicRankDiff. */
function logRank(t: number, now: number): number {
  const d = (now - t) * 1e6;
  return d > 0 ? Math.floor(Math.log2(d)) : -1;
}

/** afterOrZero: a zero time first, then the later one. */
function afterOrZero(a: number, b: number): boolean {
  if (a === 0 || b === 0) return a === 0;
  return a > b;
}

/** ActivePodsWithRanks.Less: does pod `a` go before pod `b`? */
export function deletesFirst(
  a: KubeObject,
  rankA: number,
  b: KubeObject,
  rankB: number,
  now: number,
): boolean {
  const nodeA = (a.spec as { nodeName?: string } | undefined)?.nodeName ?? "";
  const nodeB = (b.spec as { nodeName?: string } | undefined)?.nodeName ?? "";
  if (nodeA !== nodeB && (nodeA === "" || nodeB === "")) return nodeA === "";
  const pa = PHASE_ORDER[podPhase(a) ?? ""] ?? 0;
  const pb = PHASE_ORDER[podPhase(b) ?? ""] ?? 0;
  if (pa !== pb) return pa < pb;
  if (isPodReady(a) !== isPodReady(b)) return !isPodReady(a);
  if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) < deletionCost(b);
  if (rankA !== rankB) return rankA > rankB;
  const uidFirst = () => (a.metadata.uid ?? "") < (b.metadata.uid ?? "");
  if (isPodReady(a) && isPodReady(b)) {
    const ra = readySince(a);
    const rb = readySince(b);
    if (ra !== rb) {
      if (ra === 0 || rb === 0) return afterOrZero(ra, rb);
      const diff = logRank(ra, now) - logRank(rb, now);
      return diff === 0 ? uidFirst() : diff < 0;
    }
  }
  if (maxRestarts(a) !== maxRestarts(b)) return maxRestarts(a) > maxRestarts(b);
  const ca = Date.parse(a.metadata.creationTimestamp ?? "") || 0;
  const cb = Date.parse(b.metadata.creationTimestamp ?? "") || 0;
  if (ca !== cb) {
    if (ca === 0 || cb === 0) return afterOrZero(ca, cb);
    const diff = logRank(ca, now) - logRank(cb, now);
    return diff === 0 ? uidFirst() : diff < 0;
  }
  return false;
}

/**
 * getPodsToDelete: `diff` of the set's active pods, ranked; a pod shares its node with more of the
 * Deployment's pods (`related`: every set of the same owner) ranks higher.
 */
export function podsToDelete(
  active: KubeObject[],
  related: KubeObject[],
  diff: number,
  now: Date,
): KubeObject[] {
  if (diff >= active.length) return active.slice(0, diff);
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p)) continue;
    const node = (p.spec as { nodeName?: string } | undefined)?.nodeName ?? "";
    onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  const ranked = active.map((pod) => ({
    pod,
    rank: onNode.get((pod.spec as { nodeName?: string } | undefined)?.nodeName ?? "") ?? 0,
  }));
  const t = now.getTime();
  ranked.sort((x, y) =>
    deletesFirst(x.pod, x.rank, y.pod, y.rank, t)
      ? -1
      : deletesFirst(y.pod, y.rank, x.pod, x.rank, t)
        ? 1
        : 0,
  );
  return ranked.slice(0, diff).map((r) => r.pod);
}

export type ReplicaSetStatus = NonNullable<ReplicaSet["status"]>;

/** calculateStatus: counts of the claimed active pods; ReplicaFailure while creating or deleting fails. */
export function replicaSetStatus(
  rs: ReplicaSet,
  pods: KubeObject[],
  manageError: string | undefined,
  now: Date,
): ReplicaSetStatus {
  const status: ReplicaSetStatus = structuredClone(rs.status ?? {});
  const templateLabels = rs.spec.template?.metadata?.labels ?? {};
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of pods) {
    const labels = pod.metadata.labels ?? {};
    if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, rs.spec.minReadySeconds ?? 0, now)) available++;
    }
  }
  const failure = status.conditions?.find((c) => c.type === "ReplicaFailure");
  if (manageError !== undefined && !failure) {
    const diff = pods.length - specReplicas(rs);
    const reason = diff < 0 ? "FailedCreate" : diff > 0 ? "FailedDelete" : "";
    const c: ReplicaSetCondition = {
      type: "ReplicaFailure",
      status: "True",
      lastTransitionTime: timestamp(now),
      reason,
      message: manageError,
    };
    setCondition(status, c);
  } else if (manageError === undefined && failure) {
    removeCondition(status, "ReplicaFailure");
  }
  status.replicas = pods.length;
  // ReplicaSetStatus's other counts are omitempty.
  const counts = { fullyLabeledReplicas: fullyLabeled, readyReplicas: ready, availableReplicas: available };
  for (const [k, v] of Object.entries(counts)) {
    if (v > 0) status[k as keyof typeof counts] = v;
    else delete status[k as keyof typeof counts];
  }
  return status;
}

/** updateReplicaSetStatus's no-op check, then observedGeneration as the generation acted on. */
export function statusToWrite(rs: ReplicaSet, next: ReplicaSetStatus): ReplicaSetStatus | undefined {
  const cur = rs.status ?? {};
  const same =
    (cur.replicas ?? 0) === (next.replicas ?? 0) &&
    (cur.fullyLabeledReplicas ?? 0) === (next.fullyLabeledReplicas ?? 0) &&
    (cur.readyReplicas ?? 0) === (next.readyReplicas ?? 0) &&
    (cur.availableReplicas ?? 0) === (next.availableReplicas ?? 0) &&
    (rs.metadata.generation ?? 0) === (cur.observedGeneration ?? 0) &&
    JSON.stringify(cur.conditions ?? []) === JSON.stringify(next.conditions ?? []);
  if (same) return undefined;
  return { ...next, observedGeneration: rs.metadata.generation };
}

/** When the next ready-but-not-yet-available pod becomes available (ms from now), for a requeue. */
export function nextAvailableInMs(rs: ReplicaSet, pods: KubeObject[], now: Date): number | undefined {
  const min = rs.spec.minReadySeconds ?? 0;
  if (min === 0) return undefined;
  let next: number | undefined;
  for (const pod of pods) {
    if (!isPodReady(pod) || isPodAvailable(pod, min, now)) continue;
    const since = Date.parse(readyCondition(pod)?.lastTransitionTime ?? "");
    if (Number.isNaN(since)) continue;
    const wait = since + min * 1000 - now.getTime() + 1000;
    next = next === undefined ? wait : Math.min(next, wait);
  }
  return next;
}
