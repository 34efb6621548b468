// Kinds the test server stores and validates but runs nothing for — Deployments, Services and RBAC — so
// Kiln's install manifests (`kubectl apply -k manifests/`) are checked against the real schemas and
// kube's rules. No controller acts on them; RBAC is not enforced.

import type { StatusCause } from "./errors.ts";
import { podCauses } from "./pod-validation.ts";
import type { KubeObject } from "./storage.ts";

type Obj = Record<string, unknown>;

/** kube: a Deployment's selector must be non-empty and match its pod template's labels. */
export function deploymentCauses(o: KubeObject): StatusCause[] {
  const spec = (o.spec ?? {}) as Obj;
  const causes: StatusCause[] = [];
  const selector = spec.selector as
    | { matchLabels?: Record<string, string>; matchExpressions?: unknown[] }
    | undefined;
  const template = (spec.template ?? {}) as {
    metadata?: { labels?: Record<string, string> };
    spec?: unknown;
  };
  if (
    !selector ||
    (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)
  ) {
    causes.push({ reason: "FieldValueRequired", message: "Required value", field: "spec.selector" });
  } else {
    const labels = template.metadata?.labels ?? {};
    const matches = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
    if (!matches) {
      causes.push({
        reason: "FieldValueInvalid",
        message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
        field: "spec.template.metadata.labels",
      });
    }
  }
  const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "template" }, spec: template.spec };
  for (const c of podCauses(pod))
    causes.push({ ...c, field: c.field?.replace(/^spec/, "spec.template.spec") });
  return causes;
}

export function deploymentDefaults(o: KubeObject): void {
  const spec = (o.spec ?? {}) as Obj;
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  spec.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } };
}

export function serviceDefaults(o: KubeObject): void {
  const spec = (o.spec ?? {}) as Obj;
  spec.type ??= "ClusterIP";
  spec.sessionAffinity ??= "None";
  for (const p of (spec.ports as Obj[] | undefined) ?? []) {
    p.protocol ??= "TCP";
    p.targetPort ??= p.port;
  }
}

export function serviceCauses(o: KubeObject): StatusCause[] {
  const ports = ((o.spec as Obj | undefined)?.ports as Obj[] | undefined) ?? [];
  const type = (o.spec as Obj | undefined)?.type;
  if (ports.length === 0 && type !== "ExternalName" && (o.spec as Obj | undefined)?.clusterIP !== "None") {
    return [{ reason: "FieldValueRequired", message: "Required value", field: "spec.ports" }];
  }
  return [];
}
