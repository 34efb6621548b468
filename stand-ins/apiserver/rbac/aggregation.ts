// kube's clusterrole-aggregation controller (pkg/controller/clusterroleaggregation): a ClusterRole with
// an aggregationRule gets, as its rules, the rules of every other ClusterRole its selectors match (by
// name, each rule once). It runs after any ClusterRole change, level-triggered, off the writer's stack.
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "../../../lib/log.ts";
import type { Objects } from "../objects.ts";
import type { LabelSelector } from "../selectors.ts";
import { matchesLabels } from "../selectors.ts";
import type { PolicyRule } from "./rules.ts";
import { COLLECTIONS, type LabelSelectorObject, RBAC_GROUP, type RoleObject } from "./types.ts";

/** metav1.LabelSelectorAsSelector; undefined for an operator it does not know. */
export function labelSelector(s: LabelSelectorObject): LabelSelector | undefined {
  const out: LabelSelector = Object.entries(s.matchLabels ?? {}).map(([key, value]) => ({
    key,
    op: "in",
    values: [value],
  }));
  for (const e of s.matchExpressions ?? []) {
    if (e.operator === "In") out.push({ key: e.key, op: "in", values: e.values ?? [] });
    else if (e.operator === "NotIn") out.push({ key: e.key, op: "notin", values: e.values ?? [] });
    else if (e.operator === "Exists") out.push({ key: e.key, op: "exists" });
    else if (e.operator === "DoesNotExist") out.push({ key: e.key, op: "!exists" });
    else return undefined;
  }
  return out;
}

/** The rules an aggregated ClusterRole should have, given all ClusterRoles. */
export function aggregatedRules(role: RoleObject, all: RoleObject[]): PolicyRule[] {
  const rules: PolicyRule[] = [];
  const byName = [...all].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
  for (const s of role.aggregationRule?.clusterRoleSelectors ?? []) {
    const selector = labelSelector(s);
    if (!selector) continue;
    for (const other of byName) {
      if (other.metadata.name === role.metadata.name || !matchesLabels(selector, other.metadata.labels))
        continue;
      for (const r of other.rules ?? []) if (!rules.some((have) => isDeepStrictEqual(have, r))) rules.push(r);
    }
  }
  return rules;
}

export class ClusterRoleAggregation {
  private readonly objects: Objects;
  private readonly log: Logger;
  private scheduled = false;
  private stopListening?: () => void;

  constructor(objects: Objects, log: Logger) {
    this.objects = objects;
    this.log = log;
  }

  start(): void {
    this.stopListening = this.objects.store.listen((c) => {
      if (c.name === COLLECTIONS.clusterRoles) this.schedule();
    });
    this.sync();
  }

  stop(): void {
    this.stopListening?.();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.sync();
    });
  }

  /** One pass over every aggregated ClusterRole; a change wakes the next pass (chains settle). */
  sync(): void {
    const t = this.objects.registry.find(RBAC_GROUP, "v1", "clusterroles")!;
    const all = this.objects.store.collection(COLLECTIONS.clusterRoles).list() as RoleObject[];
    for (const role of all) {
      if (!role.aggregationRule) continue;
      const rules = aggregatedRules(role, all);
      if (isDeepStrictEqual(rules, role.rules ?? [])) continue;
      try {
        this.objects.internalUpdate(t, { ...role, rules } as RoleObject);
      } catch (error) {
        this.log.error({ err: error, name: role.metadata.name }, "aggregating a ClusterRole failed");
      }
    }
  }
}
