// Structural defaulting as apiextensions-apiserver applies it after pruning: a missing field (or a null
// where the field is not nullable) takes the schema's `default`; the walk then continues into the value,
// so defaults nested inside a defaulted object, array items and map values apply too.
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";
import { cloneJSON, isPlainObject, propertyOf } from "./go-format.ts";

/** Returns a defaulted copy of `obj`; the input is not modified. Defaults are copied as they are, not re-validated. */
export function defaultObject(obj: unknown, schema: JSONSchemaProps): unknown {
  const value = cloneJSON(obj);
  applyDefaults(value, schema);
  return value;
}

const isNonNullableNull = (x: unknown, s: JSONSchemaProps | undefined) => x === null && !!s && !s.nullable;

/** defaultObject without the copy: `x` itself is defaulted (defaults are still copied in). */
export function applyDefaults(x: unknown, s: JSONSchemaProps | undefined): void {
  if (!s) return;
  if (Array.isArray(x)) {
    const items = s.items;
    for (let i = 0; i < x.length; i++) {
      if (isNonNullableNull(x[i], items) && items?.default !== undefined) x[i] = cloneJSON(items.default);
      applyDefaults(x[i], items);
    }
    return;
  }
  if (!isPlainObject(x)) return;
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    if (prop.default === undefined) continue;
    if (!Object.hasOwn(x, key) || isNonNullableNull(x[key], prop)) x[key] = cloneJSON(prop.default);
  }
  const additional = typeof s.additionalProperties === "object" ? s.additionalProperties : undefined;
  for (const [key, v] of Object.entries(x)) {
    const prop = propertyOf(s.properties, key);
    if (prop) {
      applyDefaults(v, prop);
    } else if (additional) {
      if (isNonNullableNull(v, additional) && additional.default !== undefined) {
        x[key] = cloneJSON(additional.default);
      }
      applyDefaults(x[key], additional);
    }
  }
}
