// Structural pruning as apiextensions-apiserver does it when it decodes a custom resource: fields the
// schema does not specify are dropped (and reported), non-nullable nulls without a default are dropped,
// and ObjectMeta keeps only the fields metav1.ObjectMeta knows.
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";
import { cloneJSON, isPlainObject, propertyOf } from "./go-format.ts";

const META_FIELDS = new Set(["apiVersion", "kind", "metadata"]);

/** The fields of metav1.ObjectMeta; anything else under metadata is dropped like an unknown field. */
export const OBJECT_META_FIELDS: ReadonlySet<string> = new Set([
  "name",
  "generateName",
  "namespace",
  "selfLink",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
  "managedFields",
]);

/**
 * Prunes a copy of `obj` (the whole resource) against its structural schema. `unknownFields` are the
 * dropped paths as kube reports them (`spec.foo`, `spec.steps[0].bar`, `metadata.foo`), sorted, ready
 * for `unknown field "<path>"` warnings or strict-validation errors.
 */
export function pruneObject(
  obj: unknown,
  schema: JSONSchemaProps,
): { value: unknown; unknownFields: string[] } {
  const value = cloneJSON(obj);
  return { value, unknownFields: pruneInPlace(value, schema) };
}

/** pruneObject without the copy: `value` itself is pruned; returns the unknown fields. */
export function pruneInPlace(value: unknown, schema: JSONSchemaProps): string[] {
  const unknown: string[] = [];
  // The root is treated as an embedded resource: apiVersion, kind and metadata are not the schema's business.
  const root: JSONSchemaProps = { ...schema, "x-kubernetes-embedded-resource": true };
  prune(value, root, "", unknown);
  sortStrings(unknown);
  dropNonNullableNulls(value, root);
  const metaUnknown: string[] = [];
  coerceEmbeddedMetadata(value, root, "", metaUnknown);
  sortStrings(metaUnknown);
  return [...unknown, ...metaUnknown];
}

function sortStrings(list: string[]): void {
  list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const child = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);

function prune(x: unknown, s: JSONSchemaProps | undefined, path: string, unknown: string[]): void {
  if (s?.["x-kubernetes-preserve-unknown-fields"]) {
    skipPrune(x, s, path, unknown);
    return;
  }
  if (Array.isArray(x)) {
    x.forEach((item, i) => {
      prune(item, s?.items, `${path}[${i}]`, unknown);
    });
    return;
  }
  if (!isPlainObject(x)) return;
  for (const [key, v] of Object.entries(x)) {
    if (s?.["x-kubernetes-embedded-resource"] && META_FIELDS.has(key)) continue;
    const prop = propertyOf(s?.properties, key);
    if (prop) {
      prune(v, prop, child(path, key), unknown);
    } else if (s && isSchema(s.additionalProperties)) {
      prune(v, s.additionalProperties, child(path, key), unknown);
    } else if (s && s.additionalProperties === true) {
      // additionalProperties without a schema keeps the key, but nothing below it is specified.
      prune(v, undefined, child(path, key), unknown);
    } else {
      unknown.push(child(path, key));
      delete x[key];
    }
  }
}

// Below x-kubernetes-preserve-unknown-fields, unknown fields stay, but specified ones are still pruned.
function skipPrune(x: unknown, s: JSONSchemaProps, path: string, unknown: string[]): void {
  if (Array.isArray(x)) {
    x.forEach((item, i) => {
      if (s.items) skipPrune(item, s.items, `${path}[${i}]`, unknown);
    });
    return;
  }
  if (!isPlainObject(x)) return;
  for (const [key, v] of Object.entries(x)) {
    if (s["x-kubernetes-embedded-resource"] && META_FIELDS.has(key)) continue;
    const prop = propertyOf(s.properties, key);
    if (prop) prune(v, prop, child(path, key), unknown);
    else if (isSchema(s.additionalProperties)) prune(v, s.additionalProperties, child(path, key), unknown);
  }
}

function isSchema(value: JSONSchemaProps | boolean | undefined): value is JSONSchemaProps {
  return typeof value === "object" && value !== null;
}

function schemaForField(key: string, s: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  if (!s) return undefined;
  const prop = propertyOf(s.properties, key);
  if (prop) return prop;
  return isSchema(s.additionalProperties) ? s.additionalProperties : undefined;
}

/** A null where the schema says the field is neither nullable nor defaulted is dropped, as if it were absent. */
export function dropNonNullableNulls(x: unknown, s: JSONSchemaProps | undefined): void {
  if (Array.isArray(x)) {
    for (const item of x) dropNonNullableNulls(item, s?.items);
    return;
  }
  if (!isPlainObject(x)) return;
  for (const [key, v] of Object.entries(x)) {
    const fieldSchema = schemaForField(key, s);
    if (v === null && fieldSchema && !fieldSchema.nullable && fieldSchema.default === undefined)
      delete x[key];
    else dropNonNullableNulls(v, fieldSchema);
  }
}

// ObjectMeta of the root and of embedded resources is decoded into metav1.ObjectMeta: unknown keys vanish.
function coerceEmbeddedMetadata(
  x: unknown,
  s: JSONSchemaProps | undefined,
  path: string,
  unknown: string[],
): void {
  if (Array.isArray(x)) {
    x.forEach((item, i) => {
      coerceEmbeddedMetadata(item, s?.items, `${path}[${i}]`, unknown);
    });
    return;
  }
  if (!isPlainObject(x) || !s) return;
  if (s["x-kubernetes-embedded-resource"] && isPlainObject(x.metadata)) {
    for (const key of Object.keys(x.metadata)) {
      if (!OBJECT_META_FIELDS.has(key)) {
        unknown.push(child(child(path, "metadata"), key));
        delete x.metadata[key];
      }
    }
  }
  for (const [key, v] of Object.entries(x)) {
    if (s["x-kubernetes-embedded-resource"] && META_FIELDS.has(key)) continue;
    coerceEmbeddedMetadata(v, schemaForField(key, s), child(path, key), unknown);
  }
}
