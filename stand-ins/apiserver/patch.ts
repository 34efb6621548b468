// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902, via fast-json-patch), and strategic
// merge patch for built-in kinds with the merge keys of the lists Kiln and kubectl touch.
import fastJsonPatch from "fast-json-patch";
import { badRequest, unsupportedMediaType } from "./errors.ts";

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Obj = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest("the JSON patch must be an array of operations");
  try {
    return fastJsonPatch.applyPatch(
      structuredClone(target),
      operations as fastJsonPatch.Operation[],
      true,
      false,
    ).newDocument;
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (e.name === "TEST_OPERATION_FAILED") {
      // kube reports a failed "test" as a 422-style invalid patch; clients treat it as a conflict-free failure.
      throw badRequest(
        `the server rejected our request due to an error in our request: testing value failed`,
      );
    }
    throw badRequest(
      `the server rejected our request due to an error in our request: ${e.message ?? String(error)}`,
    );
  }
}

/** Merge keys of lists by field name (patchMergeKey in the Kubernetes types). */
const MERGE_KEYS: Record<string, string | undefined> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  env: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  ports: "containerPort",
  conditions: "type",
  ownerReferences: "uid",
  imagePullSecrets: "name",
  hostAliases: "ip",
  topologySpreadConstraints: "topologyKey",
  resourceClaims: "name",
  secrets: "name",
};

/** Primitive lists merged as sets (patchStrategy=merge). */
const MERGED_PRIMITIVE_LISTS = new Set(["finalizers"]);

const SET_ORDER = "$setElementOrder/";
const DELETE_PRIMITIVE = "$deleteFromPrimitiveList/";

export function strategicMergePatch(original: unknown, patch: unknown): unknown {
  if (!isObject(patch)) throw badRequest("the strategic merge patch must be a JSON object");
  return smpObject(isObject(original) ? original : {}, patch);
}

function smpObject(original: Obj, patch: Obj): Obj {
  if (patch.$patch === "replace") {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch.$patch === "delete") return {};
  const out: Obj = { ...original };
  const orders: Record<string, unknown[]> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k === "$retainKeys") continue;
    if (k.startsWith(SET_ORDER)) {
      orders[k.slice(SET_ORDER.length)] = v as unknown[];
      continue;
    }
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      const remove = new Set((v as unknown[]).map((x) => JSON.stringify(x)));
      if (Array.isArray(out[field]))
        out[field] = (out[field] as unknown[]).filter((x) => !remove.has(JSON.stringify(x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const current = out[k];
    if (Array.isArray(v)) out[k] = smpList(k, Array.isArray(current) ? current : [], v);
    else if (isObject(v)) out[k] = smpObject(isObject(current) ? current : {}, v);
    else out[k] = v;
  }
  for (const [field, order] of Object.entries(orders)) {
    if (Array.isArray(out[field])) out[field] = applyOrder(field, out[field] as unknown[], order);
  }
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys as string[]);
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
  }
  return out;
}

/** A container's ports merge by containerPort, a Service's by port. */
function mergeKey(field: string, items: unknown[]): string | undefined {
  if (field === "ports" && items.some((i) => isObject(i) && "port" in i && !("containerPort" in i)))
    return "port";
  return MERGE_KEYS[field];
}

function smpList(field: string, original: unknown[], patch: unknown[]): unknown[] {
  const key = mergeKey(field, [...patch, ...original]);
  if (key && patch.every((p) => isObject(p))) {
    if (patch.some((p) => (p as Obj).$patch === "replace")) {
      return patch.filter((p) => (p as Obj).$patch !== "replace").map((p) => structuredClone(p));
    }
    const out = original.map((o) => structuredClone(o));
    for (const p of patch as Obj[]) {
      const index = out.findIndex((o) => isObject(o) && o[key] === p[key]);
      if (p.$patch === "delete") {
        if (index >= 0) out.splice(index, 1);
        continue;
      }
      if (index >= 0) out[index] = smpObject(out[index] as Obj, p);
      else out.push(smpObject({}, p));
    }
    return out;
  }
  if (MERGED_PRIMITIVE_LISTS.has(field)) {
    const out = [...original];
    for (const p of patch) if (!out.some((o) => JSON.stringify(o) === JSON.stringify(p))) out.push(p);
    return out;
  }
  return structuredClone(patch);
}

function applyOrder(field: string, list: unknown[], order: unknown[]): unknown[] {
  const key = mergeKey(field, [...order, ...list]);
  const id = (x: unknown) => JSON.stringify(key && isObject(x) ? x[key] : x);
  const position = new Map(order.map((o, i) => [id(o), i]));
  return [...list].sort(
    (a, b) => (position.get(id(a)) ?? order.length) - (position.get(id(b)) ?? order.length),
  );
}

export type PatchType = "merge" | "json" | "strategic" | "apply";

export function patchType(contentType: string | undefined): PatchType {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  switch (type) {
    case "application/merge-patch+json":
      return "merge";
    case "application/json-patch+json":
      return "json";
    case "application/strategic-merge-patch+json":
      return "strategic";
    case "application/apply-patch+yaml":
    case "application/apply-patch+cbor":
      return "apply";
    default:
      throw unsupportedMediaType(type);
  }
}

export function applyPatch(type: Exclude<PatchType, "apply">, original: unknown, patch: unknown): unknown {
  if (type === "merge") return mergePatch(original, patch);
  if (type === "json") return jsonPatch(original, patch);
  return strategicMergePatch(original, patch);
}
