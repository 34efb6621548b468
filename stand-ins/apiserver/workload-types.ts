// The kinds a production install of Kiln ships beyond the core ones: apps/v1 ReplicaSets,
// policy/v1 PodDisruptionBudgets, networking.k8s.io/v1 Ingresses, IngressClasses and NetworkPolicies
// (stored and validated; nothing enforces NetworkPolicy on the process kubelet), plus the
// DefaultIngressClass admission plugin.
import { emptyReplicaSetStatus, replicaSetCauses, replicaSetDefaults } from "./apps.ts";
import { builtin } from "./builtins.ts";
import {
  emptyIngressStatus,
  ingressCauses,
  ingressClassCauses,
  networkPolicyCauses,
  networkPolicyDefaults,
} from "./networking.ts";
import type { Admission } from "./objects.ts";
import { emptyPodDisruptionBudgetStatus, podDisruptionBudgetCauses } from "./policy.ts";
import type { ResourceType } from "./registry.ts";

export function workloadTypes(): ResourceType[] {
  return [
    builtin({
      group: "apps",
      version: "v1",
      resource: "replicasets",
      kind: "ReplicaSet",
      singular: "replicaset",
      namespaced: true,
      shortNames: ["rs"],
      categories: ["all"],
      subresources: ["status", "scale"],
      statusSubresource: true,
      hasGeneration: true,
      model: "V1ReplicaSet",
      defaults: replicaSetDefaults,
      validate: replicaSetCauses,
      prepareCreate: emptyReplicaSetStatus,
    }),
    builtin({
      group: "policy",
      version: "v1",
      resource: "poddisruptionbudgets",
      kind: "PodDisruptionBudget",
      singular: "poddisruptionbudget",
      namespaced: true,
      shortNames: ["pdb"],
      subresources: ["status"],
      statusSubresource: true,
      hasGeneration: true,
      model: "V1PodDisruptionBudget",
      validate: podDisruptionBudgetCauses,
      prepareCreate: emptyPodDisruptionBudgetStatus,
    }),
    builtin({
      group: "networking.k8s.io",
      version: "v1",
      resource: "ingresses",
      kind: "Ingress",
      singular: "ingress",
      namespaced: true,
      shortNames: ["ing"],
      subresources: ["status"],
      statusSubresource: true,
      hasGeneration: true,
      model: "V1Ingress",
      validate: ingressCauses,
      prepareCreate: emptyIngressStatus,
    }),
    builtin({
      group: "networking.k8s.io",
      version: "v1",
      resource: "ingressclasses",
      kind: "IngressClass",
      singular: "ingressclass",
      namespaced: false,
      hasGeneration: true,
      model: "V1IngressClass",
      validate: ingressClassCauses,
    }),
    builtin({
      group: "networking.k8s.io",
      version: "v1",
      resource: "networkpolicies",
      kind: "NetworkPolicy",
      singular: "networkpolicy",
      namespaced: true,
      shortNames: ["netpol"],
      hasGeneration: true,
      model: "V1NetworkPolicy",
      defaults: networkPolicyDefaults,
      validate: networkPolicyCauses,
    }),
  ];
}

const DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class";

/**
 * DefaultIngressClass: an Ingress created without a class (field or legacy annotation) gets the
 * IngressClass marked default — the newest one when several are.
 */
export const defaultIngressClass: Admission = (t, o, objects) => {
  if (!(t.group === "networking.k8s.io" && t.resource === "ingresses")) return;
  const spec = (o.spec ?? {}) as { ingressClassName?: string };
  if (spec.ingressClassName !== undefined || o.metadata.annotations?.["kubernetes.io/ingress.class"]) return;
  const classes = objects.store
    .collection("networking.k8s.io/ingressclasses")
    .list()
    .filter((c) => c.metadata.annotations?.[DEFAULT_CLASS] === "true")
    .sort(
      (a, b) =>
        Date.parse(b.metadata.creationTimestamp ?? "") - Date.parse(a.metadata.creationTimestamp ?? ""),
    );
  if (classes.length > 0) {
    spec.ingressClassName = classes[0]!.metadata.name;
    o.spec = spec;
  }
};
