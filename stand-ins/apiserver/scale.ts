// The scale subresource of Deployments and ReplicaSets (autoscaling/v1 Scale), as kube's scale REST
// serves it: GET reports spec.replicas, status.replicas and the selector as a string; PUT and PATCH
// set spec.replicas through the owner's own update (validation, generation, resourceVersion checks).
import { selectorString } from "./controllers/label-selector.ts";
import { badRequest, conflict, invalid, unsupportedMediaType } from "./errors.ts";
import { dryRun, type SubresourceHandler } from "./handlers.ts";
import { readObject, sendJSON } from "./http-io.ts";
import type { Objects } from "./objects.ts";
import { applyPatch, patchType } from "./patch.ts";
import type { KubeObject } from "./storage.ts";

type Obj = Record<string, unknown>;

export function scaleOf(o: KubeObject): KubeObject {
  const spec = (o.spec ?? {}) as Obj;
  const status = (o.status ?? {}) as Obj;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      creationTimestamp: o.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, selector: selectorString(spec.selector as never) },
  };
}

export function scaleHandler(objects: Objects): SubresourceHandler {
  return async (req, res, t, info, url) => {
    const name = info.name!;
    const current = objects.get(t, info.namespace, name);
    let body: KubeObject;
    if (info.verb === "get") return sendJSON(res, 200, scaleOf(current));
    if (info.verb === "update") {
      body = (await readObject(req)) as KubeObject;
      if (!body || typeof body !== "object" || Array.isArray(body))
        throw badRequest("the body of the request must be a JSON object");
    } else if (info.verb === "patch") {
      const type = patchType(req.headers["content-type"] as string | undefined);
      if (type === "apply") throw unsupportedMediaType("application/apply-patch+yaml");
      const patch = await readObject(req);
      if (patch === undefined) throw badRequest("the body of the request must not be empty");
      body = applyPatch(type, scaleOf(current), patch) as KubeObject;
    } else {
      throw badRequest(`${t.resource}/scale does not support ${info.verb}`);
    }
    if (body.kind !== undefined && body.kind !== "Scale")
      throw badRequest(
        `the kind of the object (${String(body.kind)}) does not match the expected kind (Scale)`,
      );
    body.metadata ??= {};
    if (body.metadata.name !== undefined && body.metadata.name !== name)
      throw badRequest(
        `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`,
      );
    const replicas = (body.spec as Obj | undefined)?.replicas ?? 0;
    if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid("autoscaling", "Scale", name, [
        {
          reason: "FieldValueInvalid",
          message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
          field: "spec.replicas",
        },
      ]);
    }
    const rv = body.metadata.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion) {
      throw conflict(
        objects.target(t, name),
        "the object has been modified; please apply your changes to the latest version and try again",
      );
    }
    const next = { ...current, spec: { ...(current.spec as Obj), replicas } };
    const result = objects.update(t, info.namespace, name, next, { dryRun: dryRun(url.searchParams) });
    sendJSON(res, 200, scaleOf(result.object));
  };
}
