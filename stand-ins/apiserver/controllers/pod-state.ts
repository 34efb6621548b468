// What controllers read from a pod's status: active (kube's controller.IsPodActive), ready
// (podutil.IsPodReady) and available for minReadySeconds (podutil.IsPodAvailable).
import type { KubeObject } from "../storage.ts";

interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

export function podPhase(pod: KubeObject): string | undefined {
  return (pod.status as { phase?: string } | undefined)?.phase;
}

/** Not Succeeded, not Failed, not being deleted. */
export function isPodActive(pod: KubeObject): boolean {
  const phase = podPhase(pod);
  return phase !== "Succeeded" && phase !== "Failed" && !pod.metadata.deletionTimestamp;
}

export function readyCondition(pod: KubeObject): PodCondition | undefined {
  const conditions = (pod.status as { conditions?: PodCondition[] } | undefined)?.conditions ?? [];
  return conditions.find((c) => c.type === "Ready");
}

export function isPodReady(pod: KubeObject): boolean {
  return readyCondition(pod)?.status === "True";
}

/** Ready for at least minReadySeconds (strictly longer, as kube compares with Before). */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: Date): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds === 0) return true;
  const since = readyCondition(pod)?.lastTransitionTime;
  if (!since) return false;
  return Date.parse(since) + minReadySeconds * 1000 < now.getTime();
}

/** When a ready pod becomes available, for requeueing; undefined when it never will by waiting. */
export function availableAt(pod: KubeObject, minReadySeconds: number): number | undefined {
  const since = readyCondition(pod)?.lastTransitionTime;
  if (!isPodReady(pod) || !since) return undefined;
  return Date.parse(since) + minReadySeconds * 1000;
}
