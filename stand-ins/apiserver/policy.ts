// policy/v1 PodDisruptionBudgets as kube-apiserver validates them (pkg/apis/policy/validation): one of
// minAvailable / maxUnavailable, each a non-negative int or a percentage of at most 100%, a valid
// selector and a known unhealthyPodEvictionPolicy. A new budget's status is all zeros.
import {
  type IntOrString,
  notMoreThan100PercentCauses,
  positiveIntOrPercentCauses,
} from "./controllers/int-or-percent.ts";
import { type LabelSelector, labelSelectorCauses } from "./controllers/label-selector.ts";
import type { StatusCause } from "./errors.ts";
import { goQuote, goSharpV } from "./schema/go-format.ts";
import type { KubeObject } from "./storage.ts";

interface PDBSpec {
  minAvailable?: IntOrString;
  maxUnavailable?: IntOrString;
  selector?: LabelSelector;
  unhealthyPodEvictionPolicy?: string;
}

const POLICIES = ["AlwaysAllow", "IfHealthyBudget"];

export function podDisruptionBudgetCauses(o: KubeObject): StatusCause[] {
  const spec = (o.spec ?? {}) as PDBSpec;
  const causes: StatusCause[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: ${goSharpV(spec)}: minAvailable and maxUnavailable cannot be both set`,
      field: "spec",
    });
  }
  for (const f of ["minAvailable", "maxUnavailable"] as const) {
    causes.push(...positiveIntOrPercentCauses(spec[f], `spec.${f}`));
    causes.push(...notMoreThan100PercentCauses(spec[f], `spec.${f}`));
  }
  causes.push(...labelSelectorCauses(spec.selector, "spec.selector"));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (policy !== undefined && !POLICIES.includes(policy)) {
    causes.push({
      reason: "FieldValueNotSupported",
      message: `Unsupported value: ${goQuote(policy)}: supported values: ${POLICIES.map((p) => goQuote(p)).join(", ")}`,
      field: "spec.unhealthyPodEvictionPolicy",
    });
  }
  return causes;
}

/** PodDisruptionBudgetStatus's counts are not omitempty: a new budget shows them as 0. */
export function emptyPodDisruptionBudgetStatus(o: KubeObject): void {
  o.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
}
