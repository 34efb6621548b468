// Unknown-field detection and pruning for built-in kinds. kube-apiserver decodes built-in objects into
// Go structs, which silently drops unknown fields (and reports them under fieldValidation=Warn/Strict),
// and re-encodes times: metav1.Time with whole seconds, MicroTime with six fraction digits.
// The field lists come from @kubernetes/client-node's generated models, which mirror those structs.
import * as k8s from "@kubernetes/client-node";
import { badRequest } from "./errors.ts";

interface Attribute {
  name: string;
  baseName: string;
  type: string;
}

type ModelClass = { getAttributeTypeMap(): Attribute[] };

const models = k8s as unknown as Record<string, ModelClass | undefined>;
const attributeCache = new Map<string, Map<string, string> | null>();

function attributes(type: string): Map<string, string> | null {
  let cached = attributeCache.get(type);
  if (cached !== undefined) return cached;
  const model = models[type];
  cached =
    model && typeof model.getAttributeTypeMap === "function"
      ? new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]))
      : null;
  attributeCache.set(type, cached);
  return cached;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Removes fields the model type does not know, in place, and returns their paths
 * (`.spec.containers[0].foo`, as kube's "unknown field" messages name them, without the leading dot).
 */
export function pruneUnknownFields(value: unknown, type: string, path = ""): string[] {
  const unknown: string[] = [];
  walk(value, type, path, unknown);
  return unknown;
}

function walk(value: unknown, type: string, path: string, unknown: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) walk(item, array[1]!, `${path}[${i}]`, unknown);
    }
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isObject(value))
      for (const [k, v] of Object.entries(value)) walk(v, map[1]!, `${path}[${k}]`, unknown);
    return;
  }
  const attrs = attributes(type);
  if (!attrs || !isObject(value)) return;
  for (const field of Object.keys(value)) {
    const fieldType = attrs.get(field);
    const fieldPath = path ? `${path}.${field}` : field;
    if (fieldType === undefined) {
      unknown.push(fieldPath);
      delete value[field];
    } else if ((fieldType === "Date" || fieldType === "V1MicroTime") && typeof value[field] === "string") {
      value[field] = formatTime(value[field] as string, fieldType === "V1MicroTime", fieldPath);
    } else {
      walk(value[field], fieldType, fieldPath, unknown);
    }
  }
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

/** A time as kube re-encodes it: UTC, whole seconds (metav1.Time) or microseconds (MicroTime). */
export function formatTime(text: string, micro: boolean, path: string): string {
  const m = RFC3339.exec(text);
  const ms = Date.parse(text);
  if (!m || Number.isNaN(ms)) {
    throw badRequest(
      `parsing time ${JSON.stringify(text)} at ${path}: not an RFC 3339 time (2006-01-02T15:04:05Z07:00)`,
    );
  }
  const utcSeconds = new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19);
  if (!micro) return `${utcSeconds}Z`;
  // Keep the digits given (JavaScript dates stop at milliseconds).
  const fraction = (m[2] ?? ".").slice(1).padEnd(6, "0").slice(0, 6);
  return `${utcSeconds}.${fraction}Z`;
}
