// Services: kube's defaults and the ports rule. (Deployments and ReplicaSets are in apps.ts.)

import type { StatusCause } from "./errors.ts";
import type { KubeObject } from "./storage.ts";

type Obj = Record<string, unknown>;

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
