// The scheduler's verdict for an unscheduled pod on the one process node: the kubelet binds only
// what kube-scheduler would, so a pod no node could take stays Pending (PodScheduled=False,
// Unschedulable) here as on a cluster. Only what can differ on this node is checked: the scheduler
// name, the nodeSelector against the Node's labels and the pod's requests against allocatable (the
// node has no taints; nodeAffinity is not evaluated).
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { parseQuantity } from "./quantity.ts";

export interface SchedulingNode {
  labels: Record<string, string>;
  allocatable: { cpu: number; memory: number };
}

export type Verdict = { fits: true } | { fits: false; message: string } | { fits: false; ignore: true };

function requested(c: V1Container, resource: "cpu" | "memory"): number {
  // An unset request defaults to the limit (API defaulting), else 0.
  const raw = c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource];
  return raw === undefined ? 0 : parseQuantity(raw);
}

/** The pod's effective request, as the scheduler computes it (init containers run one at a time). */
export function podRequest(pod: V1Pod, resource: "cpu" | "memory"): number {
  const spec = pod.spec;
  const inits = spec?.initContainers ?? [];
  let sidecars = 0;
  let initPeak = 0;
  for (const c of inits) {
    if (c.restartPolicy === "Always") sidecars += requested(c, resource);
    else initPeak = Math.max(initPeak, sidecars + requested(c, resource));
  }
  const regular = (spec?.containers ?? []).reduce((sum, c) => sum + requested(c, resource), 0);
  return Math.max(initPeak, sidecars + regular);
}

export function schedule(pod: V1Pod, node: SchedulingNode): Verdict {
  const scheduler = pod.spec?.schedulerName;
  // Another scheduler's pod is not the default scheduler's to place.
  if (scheduler && scheduler !== "default-scheduler") return { fits: false, ignore: true };
  const selector = pod.spec?.nodeSelector ?? {};
  if (Object.entries(selector).some(([k, v]) => node.labels[k] !== v)) {
    return {
      fits: false,
      message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
    };
  }
  const short = (["cpu", "memory"] as const).filter((r) => podRequest(pod, r) > node.allocatable[r]);
  if (short.length) {
    return {
      fits: false,
      message: `0/1 nodes are available: ${short.map((r) => `1 Insufficient ${r}`).join(", ")}.`,
    };
  }
  return { fits: true };
}
