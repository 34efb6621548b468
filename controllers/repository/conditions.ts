// Pure: metav1.Condition bookkeeping. lastTransitionTime moves only when the status flips.
import type { Condition } from "../../api/common.ts";

export type ConditionInput = Pick<Condition, "type" | "status" | "reason"> & { message?: string };

export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionInput,
  now: Date,
  generation: number | undefined,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === next.type);
  const previous = index >= 0 ? list[index] : undefined;
  const condition: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    ...(next.message !== undefined && { message: next.message }),
    lastTransitionTime:
      previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString(),
    ...(generation !== undefined && { observedGeneration: generation }),
  };
  if (index >= 0) list[index] = condition;
  else list.push(condition);
  return list;
}

/** The WebhookReady condition's reasons, from api/reasons.ts. */
export { REPOSITORY_REASONS as REASONS } from "../../api/reasons.ts";
