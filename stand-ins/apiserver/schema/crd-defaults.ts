// ValidateDefaults of apiextensions: every default in a CRD schema must already be pruned and must
// validate against its own schema (defaults inside ObjectMeta are checked elsewhere).
import { child, META_FIELDS, prop, type Schema } from "./crd-paths.ts";
import { type FieldError, invalid } from "./field-error.ts";
import { goJSON } from "./go-format.ts";
import { pruneObject } from "./prune.ts";
import { validateObject, validateValue } from "./validate.ts";

export function checkDefaults(s: Schema, path: string, insideMeta: boolean, errors: FieldError[]): void {
  if (s.default !== undefined && !insideMeta) {
    const at = child(path, "default");
    const embedded = !!s["x-kubernetes-embedded-resource"];
    const pruned = embedded ? pruneObject(s.default, s).value : pruneValue(s.default, s);
    if (goJSON(pruned) !== goJSON(s.default)) {
      errors.push(invalid(at, s.default, "must not have unknown fields"));
    } else {
      const found: FieldError[] = [];
      validateValue(s.default, s, "", found);
      if (found.length === 0 && s.default !== null && typeof s.default === "object") {
        found.push(...validateObject(s.default, s).filter((e) => e.reason === "FieldValueDuplicate"));
      }
      for (const e of found) errors.push({ ...e, field: e.field ? `${at}.${e.field}` : at });
    }
  }
  for (const [name, p] of Object.entries(s.properties ?? {})) {
    checkDefaults(
      p,
      prop(path, name),
      insideMeta || (META_FIELDS.has(name) && !!s["x-kubernetes-embedded-resource"]),
      errors,
    );
  }
  if (typeof s.additionalProperties === "object")
    checkDefaults(s.additionalProperties, child(path, "additionalProperties"), insideMeta, errors);
  if (s.items) checkDefaults(s.items, child(path, "items"), insideMeta, errors);
}

// Prunes a default that is not a whole resource (no apiVersion/kind/metadata exemption).
function pruneValue(value: unknown, s: Schema): unknown {
  const wrapped = pruneObject(
    { v: value },
    { type: "object", properties: { v: { ...s, "x-kubernetes-embedded-resource": false } } },
  );
  return (wrapped.value as { v: unknown }).v;
}
