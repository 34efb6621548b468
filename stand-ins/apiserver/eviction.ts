// pods/eviction honouring PodDisruptionBudgets, as kube's EvictionREST (pkg/registry/core/pod/storage/
// eviction.go): a pod that is pending, finished or already being deleted goes at once; otherwise the
// one budget selecting it must allow a disruption, which the eviction takes (disruptionsAllowed - 1,
// the pod recorded in disruptedPods) — else 429 TooManyRequests with cause DisruptionBudget. An
// evicted pod gets the DisruptionTarget condition before it is deleted.
import { selectorMatches } from "./controllers/label-selector.ts";
import { type PodDisruptionBudget, withDisruptionAllowedCondition } from "./controllers/pdb-status.ts";
import { isPodReady } from "./controllers/pod-state.ts";
import { ApiError, badRequest, forbidden } from "./errors.ts";
import { dryRun, type SubresourceHandler } from "./handlers.ts";
import { readObject, sendJSON } from "./http-io.ts";
import { timestamp } from "./object-meta.ts";
import type { DeleteOptions, Objects } from "./objects.ts";
import type { KubeObject } from "./storage.ts";

const MAX_DISRUPTED_PODS = 2000;
const VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";

function tooManyRequests(cause: string, retryAfterSeconds: number): ApiError {
  return new ApiError(429, "TooManyRequests", VIOLATION, {
    causes: [{ reason: "DisruptionBudget", message: cause }],
    ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}),
  });
}

/** canIgnorePDB: the pod is not running anything a budget protects. */
export function canIgnoreBudget(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return (
    phase === "Succeeded" || phase === "Failed" || phase === "Pending" || !!pod.metadata.deletionTimestamp
  );
}

export type EvictionDecision =
  | { kind: "delete" }
  | { kind: "decrement"; status: NonNullable<PodDisruptionBudget["status"]> }
  | { kind: "refuse"; error: ApiError }
  | { kind: "status"; code: number; message: string };

/** What the eviction of `pod` does, given the budgets of its namespace (pure). */
export function decideEviction(pod: KubeObject, budgets: PodDisruptionBudget[], now: Date): EvictionDecision {
  if (canIgnoreBudget(pod)) return { kind: "delete" };
  const matching = budgets.filter((b) => selectorMatches(b.spec?.selector, pod.metadata.labels));
  if (matching.length > 1)
    return {
      kind: "status",
      code: 500,
      message:
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
    };
  const pdb = matching[0];
  if (!pdb) return { kind: "delete" };
  const s = pdb.status ?? { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  if (!isPodReady(pod)) {
    if (pdb.spec.unhealthyPodEvictionPolicy === "AlwaysAllow") return { kind: "delete" };
    if (s.currentHealthy >= s.desiredHealthy && s.desiredHealthy > 0) return { kind: "delete" };
  }
  if ((s.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) {
    return {
      kind: "refuse",
      error: tooManyRequests(
        `The disruption budget ${pdb.metadata.name} is still being processed by the server.`,
        10,
      ),
    };
  }
  const target = { group: "policy", resource: "poddisruptionbudget", name: pdb.metadata.name };
  if (s.disruptionsAllowed < 0)
    return { kind: "refuse", error: forbidden(target, "pdb disruptions allowed is negative") };
  if (Object.keys(s.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS)
    return {
      kind: "refuse",
      error: forbidden(
        target,
        "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
      ),
    };
  if (s.disruptionsAllowed === 0) {
    return {
      kind: "refuse",
      error: tooManyRequests(
        `The disruption budget ${pdb.metadata.name} needs ${s.desiredHealthy} healthy pods and has ${s.currentHealthy} currently`,
        0,
      ),
    };
  }
  let next = { ...structuredClone(s), disruptionsAllowed: s.disruptionsAllowed - 1 };
  if (next.disruptionsAllowed === 0) next = withDisruptionAllowedCondition(next, now);
  next.disruptedPods = { ...next.disruptedPods, [pod.metadata.name!]: timestamp(now) };
  return { kind: "decrement", status: next };
}

interface EvictionBody {
  metadata?: { name?: string };
  deleteOptions?: Omit<DeleteOptions, "dryRun"> & { dryRun?: string[] };
}

export function evictionHandler(objects: Objects): SubresourceHandler {
  return async (req, res, t, info, url) => {
    if (info.verb !== "create") throw badRequest("pods/eviction only supports POST");
    const body = ((await readObject(req)) ?? {}) as EvictionBody;
    if (body.metadata?.name !== undefined && body.metadata.name !== info.name)
      throw badRequest("name in URL does not match name in Eviction object");
    const options = body.deleteOptions ?? {};
    const dry = dryRun(url.searchParams) || (options.dryRun ?? []).includes("All");
    const pod = objects.get(t, info.namespace, info.name!);
    const pdbType = objects.registry.find("policy", "v1", "poddisruptionbudgets");
    const budgets = pdbType
      ? objects.store
          .collection(pdbType.collection)
          .list(info.namespace)
          .map((b) => objects.view(pdbType, b) as PodDisruptionBudget)
      : [];
    const now = objects.env.now();
    const decision = decideEviction(pod, budgets, now);
    if (decision.kind === "refuse") throw decision.error;
    if (decision.kind === "status") {
      return sendJSON(res, decision.code, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: decision.message,
        code: decision.code,
      });
    }
    if (decision.kind === "decrement" && !dry) {
      const pdb = budgets.find((b) => selectorMatches(b.spec?.selector, pod.metadata.labels))!;
      objects.update(
        pdbType!,
        info.namespace,
        pdb.metadata.name!,
        { ...pdb, status: decision.status },
        { subresource: "status" },
      );
    }
    if (!dry) markDisruptionTarget(objects, pod, now);
    objects.delete(t, info.namespace, info.name!, {
      gracePeriodSeconds: options.gracePeriodSeconds,
      preconditions: options.preconditions,
      propagationPolicy: options.propagationPolicy,
      dryRun: dry,
    });
    sendJSON(res, 201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
  };
}

/** addConditionAndDeletePod's condition: DisruptionTarget=True, EvictionByEvictionAPI. */
function markDisruptionTarget(objects: Objects, pod: KubeObject, now: Date): void {
  const t = objects.registry.find("", "v1", "pods")!;
  const status = structuredClone((pod.status ?? {}) as { conditions?: Record<string, unknown>[] });
  const existing = (status.conditions ?? []).find((c) => c.type === "DisruptionTarget");
  const condition = {
    type: "DisruptionTarget",
    status: "True",
    lastProbeTime: null,
    lastTransitionTime: existing?.status === "True" ? existing.lastTransitionTime : timestamp(now),
    reason: "EvictionByEvictionAPI",
    message: "Eviction API: evicting",
  };
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== "DisruptionTarget"), condition];
  objects.update(
    t,
    pod.metadata.namespace,
    pod.metadata.name!,
    { ...pod, status },
    { subresource: "status" },
  );
}
