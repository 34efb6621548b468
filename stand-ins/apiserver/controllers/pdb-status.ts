// A PodDisruptionBudget's status as kube's disruption controller computes it (pkg/controller/disruption):
// expected pods (the selected pods, or the scale of their controllers for percentages and
// maxUnavailable), desired and current healthy pods, disruptions allowed, the disrupted-pods map the
// eviction API fills, and the DisruptionAllowed condition (pdb helpers).
import { isDeepStrictEqual } from "node:util";
import { timestamp } from "../object-meta.ts";
import type { KubeObject } from "../storage.ts";
import { type IntOrString, scaledValue } from "./int-or-percent.ts";
import type { LabelSelector } from "./label-selector.ts";
import { isPodReady } from "./pod-state.ts";

/** How long an evicted pod may take to go before it counts as healthy again. */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

export interface Condition {
  type: string;
  status: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
  reason: string;
  message: string;
}

export interface PDBStatus {
  observedGeneration?: number;
  disruptedPods?: Record<string, string>;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  conditions?: Condition[];
}

export interface PodDisruptionBudget extends KubeObject {
  spec: {
    minAvailable?: IntOrString;
    maxUnavailable?: IntOrString;
    selector?: LabelSelector;
    unhealthyPodEvictionPolicy?: string;
  };
  status?: PDBStatus;
}

/** The scale of each selected pod's controller, by the controller's uid; an error text when unknown. */
export type ControllerScale = (
  pod: KubeObject,
) => { uid: string; scale: number } | { error: string } | undefined;

/** getExpectedPodCount: expected pods and desired healthy ones, with the unmanaged pods' names. */
export function expectedPodCount(
  pdb: PodDisruptionBudget,
  pods: KubeObject[],
  scaleOf: ControllerScale,
): { expected: number; desiredHealthy: number; unmanaged: string[] } {
  const spec = pdb.spec;
  const expectedScale = () => {
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const found = scaleOf(pod);
      if (found === undefined) {
        unmanaged.push(pod.metadata.name!);
        continue;
      }
      if ("error" in found) throw new Error(found.error);
      scales.set(found.uid, found.scale);
    }
    return { expected: [...scales.values()].reduce((a, b) => a + b, 0), unmanaged };
  };
  if (spec.maxUnavailable !== undefined) {
    const { expected, unmanaged } = expectedScale();
    const max = scaledValue(spec.maxUnavailable, expected, true);
    return { expected, desiredHealthy: Math.max(0, expected - max), unmanaged };
  }
  if (typeof spec.minAvailable === "number") {
    return { expected: pods.length, desiredHealthy: spec.minAvailable, unmanaged: [] };
  }
  if (typeof spec.minAvailable === "string") {
    const { expected, unmanaged } = expectedScale();
    return { expected, desiredHealthy: scaledValue(spec.minAvailable, expected, true), unmanaged };
  }
  return { expected: 0, desiredHealthy: 0, unmanaged: [] };
}

/** buildDisruptedPodMap: evictions still expected to complete, and the earliest time one expires. */
export function disruptedPods(
  pdb: PodDisruptionBudget,
  pods: KubeObject[],
  now: Date,
): { disrupted: Record<string, string>; recheckAt?: number; overdue: KubeObject[] } {
  const recorded = pdb.status?.disruptedPods ?? {};
  const disrupted: Record<string, string> = {};
  const overdue: KubeObject[] = [];
  let recheckAt: number | undefined;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = recorded[pod.metadata.name!];
    if (at === undefined) continue;
    const expected = Date.parse(at) + DELETION_TIMEOUT_MS;
    if (expected < now.getTime()) overdue.push(pod);
    else {
      recheckAt = recheckAt === undefined ? expected : Math.min(recheckAt, expected);
      disrupted[pod.metadata.name!] = at;
    }
  }
  return { disrupted, recheckAt, overdue };
}

/** countHealthyPods: ready pods that are neither being deleted nor just evicted. */
export function countHealthy(pods: KubeObject[], disrupted: Record<string, string>, now: Date): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = disrupted[pod.metadata.name!];
    if (at !== undefined && Date.parse(at) + DELETION_TIMEOUT_MS > now.getTime()) continue;
    if (isPodReady(pod)) n++;
  }
  return n;
}

/** apimeta.SetStatusCondition: lastTransitionTime moves only when the status does. */
export function setStatusCondition(conditions: Condition[], c: Condition, now: Date): Condition[] {
  const existing = conditions.find((x) => x.type === c.type);
  if (!existing) return [...conditions, { ...c, lastTransitionTime: c.lastTransitionTime ?? timestamp(now) }];
  const next = {
    ...existing,
    reason: c.reason,
    message: c.message,
    observedGeneration: c.observedGeneration,
  };
  if (existing.status !== c.status) {
    next.status = c.status;
    next.lastTransitionTime = c.lastTransitionTime ?? timestamp(now);
  }
  return conditions.map((x) => (x.type === c.type ? next : x));
}

/** UpdateDisruptionAllowedCondition: SufficientPods while a disruption is allowed, else InsufficientPods. */
export function withDisruptionAllowedCondition(status: PDBStatus, now: Date): PDBStatus {
  const allowed = status.disruptionsAllowed > 0;
  const c: Condition = {
    type: "DisruptionAllowed",
    status: allowed ? "True" : "False",
    observedGeneration: status.observedGeneration,
    reason: allowed ? "SufficientPods" : "InsufficientPods",
    message: "",
  };
  return { ...status, conditions: setStatusCondition(status.conditions ?? [], c, now) };
}

function conditionsUpToDate(pdb: PodDisruptionBudget): boolean {
  const s = pdb.status;
  const c = s?.conditions?.find((x) => x.type === "DisruptionAllowed");
  if (!s || !c || (s.observedGeneration ?? 0) !== (pdb.metadata.generation ?? 0)) return false;
  return s.disruptionsAllowed > 0
    ? c.status === "True" && c.reason === "SufficientPods"
    : c.status === "False" && c.reason === "InsufficientPods";
}

/** updatePdbStatus: the status to write, or undefined when the stored one is current. */
export function pdbStatus(
  pdb: PodDisruptionBudget,
  counts: { currentHealthy: number; desiredHealthy: number; expected: number },
  disrupted: Record<string, string>,
  now: Date,
): PDBStatus | undefined {
  let allowed = counts.currentHealthy - counts.desiredHealthy;
  if (counts.expected <= 0 || allowed <= 0) allowed = 0;
  const s = pdb.status;
  if (
    s &&
    s.currentHealthy === counts.currentHealthy &&
    s.desiredHealthy === counts.desiredHealthy &&
    s.expectedPods === counts.expected &&
    s.disruptionsAllowed === allowed &&
    isDeepStrictEqual(s.disruptedPods ?? {}, disrupted) &&
    (s.observedGeneration ?? 0) === (pdb.metadata.generation ?? 0) &&
    conditionsUpToDate(pdb)
  ) {
    return undefined;
  }
  const next: PDBStatus = {
    observedGeneration: pdb.metadata.generation,
    ...(Object.keys(disrupted).length > 0 ? { disruptedPods: disrupted } : {}),
    disruptionsAllowed: allowed,
    currentHealthy: counts.currentHealthy,
    desiredHealthy: counts.desiredHealthy,
    expectedPods: counts.expected,
    ...(s?.conditions ? { conditions: s.conditions } : {}),
  };
  return withDisruptionAllowedCondition(next, now);
}

/** failSafe: no disruptions, and why the status could not be computed. */
export function failSafeStatus(pdb: PodDisruptionBudget, message: string, now: Date): PDBStatus {
  const s: PDBStatus = {
    disruptionsAllowed: 0,
    currentHealthy: 0,
    desiredHealthy: 0,
    expectedPods: 0,
    ...structuredClone(pdb.status ?? {}),
  };
  s.disruptionsAllowed = 0;
  const c: Condition = {
    type: "DisruptionAllowed",
    status: "False",
    observedGeneration: s.observedGeneration,
    reason: "SyncFailed",
    message,
  };
  return { ...s, conditions: setStatusCondition(s.conditions ?? [], c, now) };
}
