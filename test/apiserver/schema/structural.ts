// The checks apiextensions-apiserver makes on a v1 CustomResourceDefinition's openAPIV3Schema when the CRD
// is created or updated, in its order: the structural-schema invariants (ValidateStructural, sorted by
// message), then — only when those pass — the defaults (ValidateDefaults), then the OpenAPI schema rules
// (ValidateCustomResourceDefinitionOpenAPISchema). Field paths use kube's notation
// (`properties[spec].properties[steps].items.type`) below the `path` given for the schema itself.
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";
import {
  type FieldError,
  forbidden,
  formatFieldError,
  invalid,
  notSupported,
  required,
} from "./field-error.ts";
import { goJSON, propertyOf } from "./go-format.ts";
import { pruneObject } from "./prune.ts";
import { validateObject, validateValue } from "./validate.ts";

type Level = "root" | "field" | "item";
const TYPES = ["array", "boolean", "integer", "number", "object", "string"];
const META_FIELDS = new Set(["metadata", "apiVersion", "kind"]);

type Schema = JSONSchemaProps & { "x-kubernetes-map-type"?: string };

/**
 * Errors that make a v1 CRD's schema unacceptable (422 Invalid on the CRD). `path` is where the schema sits
 * in the CRD, such as `spec.versions[0].schema.openAPIV3Schema` (the default).
 */
export function checkStructuralSchema(
  schema: JSONSchemaProps,
  path = "spec.versions[0].schema.openAPIV3Schema",
): FieldError[] {
  const structural: FieldError[] = [];
  structuralInvariants(schema, "root", path, structural);
  structural.sort((a, b) => compare(formatFieldError(a), formatFieldError(b)));
  const errors = [...structural];
  if (structural.length === 0) checkDefaults(schema, path, false, errors);
  openAPIRules(schema, path, { root: true, insideMeta: false, forbidDefaults: "" }, errors);
  return errors;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const child = (path: string, key: string) => `${path}.${key}`;
const prop = (path: string, key: string) => `${path}.properties[${key}]`;

// --- ValidateStructural ------------------------------------------------------------------------------

function structuralInvariants(s: Schema, level: Level, path: string, errors: FieldError[]): void {
  if (s.type === "array" && !s.items) errors.push(required(child(path, "items"), "must be specified"));
  if (s.items) structuralInvariants(s.items, "item", child(path, "items"), errors);
  for (const [name, p] of Object.entries(s.properties ?? {}))
    structuralInvariants(p, "field", prop(path, name), errors);
  if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
    if (level === "root")
      errors.push(forbidden(child(path, "additionalProperties"), "must not be used at the root"));
    if (typeof s.additionalProperties === "object") {
      structuralInvariants(s.additionalProperties, "field", child(path, "additionalProperties"), errors);
    }
  }
  const intOrString = s["x-kubernetes-int-or-string"];
  const preserve = s["x-kubernetes-preserve-unknown-fields"];
  const embedded = s["x-kubernetes-embedded-resource"];
  if (intOrString && preserve) {
    errors.push(
      invalid(
        child(path, "x-kubernetes-preserve-unknown-fields"),
        true,
        "must be false if x-kubernetes-int-or-string is true",
      ),
    );
  }
  if (intOrString && embedded) {
    errors.push(
      invalid(
        child(path, "x-kubernetes-embedded-resource"),
        true,
        "must be false if x-kubernetes-int-or-string is true",
      ),
    );
  }
  if (s.pattern !== undefined && !compiles(s.pattern)) {
    errors.push(
      invalid(
        child(path, "pattern"),
        s.pattern,
        `must be a valid regular expression, but isn't: ${regexError(s.pattern)}`,
      ),
    );
  }
  if (embedded && s.type !== "object") {
    if (!s.type)
      errors.push(required(child(path, "type"), "must be object if x-kubernetes-embedded-resource is true"));
    else
      errors.push(
        invalid(child(path, "type"), s.type, "must be object if x-kubernetes-embedded-resource is true"),
      );
  } else if (!s.type && !intOrString && !preserve) {
    const where = {
      root: "at the root",
      field: "for specified object fields",
      item: "for specified array items",
    };
    errors.push(required(child(path, "type"), `must not be empty ${where[level]}`));
  }
  if (embedded && s.additionalProperties !== undefined) {
    errors.push(
      forbidden(
        child(path, "additionalProperties"),
        "must not be used if x-kubernetes-embedded-resource is set",
      ),
    );
  }
  if (level === "root" && s.type && s.type !== "object")
    errors.push(invalid(child(path, "type"), s.type, "must be object at the root"));
  if (level === "root" || embedded) {
    const expected = { kind: "string", apiVersion: "string", metadata: "object" } as const;
    for (const [key, type] of Object.entries(expected)) {
      const field = propertyOf(s.properties, key);
      if (field && field.type !== type)
        errors.push(invalid(`${prop(path, key)}.type`, field.type ?? "", `must be ${type}`));
    }
  }
  if (level === "root") rootMetadata(s, path, errors);
  if (embedded && !preserve && Object.keys(s.properties ?? {}).length === 0) {
    errors.push(
      required(
        child(path, "properties"),
        "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
      ),
    );
  }
}

// Only name and generateName may be restricted at the root: the rest of ObjectMeta belongs to the API server.
function rootMetadata(s: Schema, path: string, errors: FieldError[]): void {
  const metadata = propertyOf(s.properties, "metadata");
  if (!metadata) return;
  const { type: _type, default: _default, properties, ...rest } = metadata;
  const names = Object.keys(properties ?? {});
  const onlyNames = names.every((n) => n === "name" || n === "generateName");
  if (!onlyNames || Object.keys(rest).length > 0) {
    errors.push(
      forbidden(
        prop(path, "metadata"),
        "must not specify anything other than name and generateName, but metadata is implicitly specified",
      ),
    );
  }
}

function compiles(pattern: string): boolean {
  return regexError(pattern) === "";
}

function regexError(pattern: string): string {
  try {
    new RegExp(pattern, "u");
    return "";
  } catch {
    try {
      new RegExp(pattern);
      return "";
    } catch (e) {
      return (e as Error).message;
    }
  }
}

// --- ValidateDefaults --------------------------------------------------------------------------------

// A default must already be pruned and must validate against its own schema.
function checkDefaults(s: Schema, path: string, insideMeta: boolean, errors: FieldError[]): void {
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

// --- ValidateCustomResourceDefinitionOpenAPISchema ---------------------------------------------------

interface Context {
  root: boolean;
  insideMeta: boolean;
  forbidDefaults: string;
}

function openAPIRules(s: Schema, path: string, ctx: Context, errors: FieldError[]): void {
  if (s.type && !TYPES.includes(s.type)) errors.push(notSupported(child(path, "type"), s.type, TYPES));
  if (s.default !== undefined && ctx.forbidDefaults)
    errors.push(forbidden(child(path, "default"), `must not be set ${ctx.forbidDefaults}`));
  if (s.type === "null")
    errors.push(forbidden(child(path, "type"), "type cannot be set to null, use nullable as an alternative"));
  if (ctx.insideMeta && s["x-kubernetes-embedded-resource"]) {
    errors.push(
      forbidden(child(path, "x-kubernetes-embedded-resource"), "must not be used inside of resource meta"),
    );
  }
  if (s.uniqueItems) {
    errors.push(
      forbidden(
        child(path, "uniqueItems"),
        "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
      ),
    );
  }
  if (s.additionalProperties !== undefined) {
    if (Object.keys(s.properties ?? {}).length > 0 && s.additionalProperties !== true) {
      errors.push(
        forbidden(
          child(path, "additionalProperties"),
          "additionalProperties and properties are mutual exclusive",
        ),
      );
    }
    if (typeof s.additionalProperties === "object") {
      const sub = ctx.insideMeta
        ? { ...ctx, forbidDefaults: "inside additionalProperties applying to object metadata" }
        : ctx;
      openAPIRules(
        s.additionalProperties,
        child(path, "additionalProperties"),
        { ...sub, root: false },
        errors,
      );
    }
  }
  for (const [name, p] of Object.entries(s.properties ?? {})) {
    let sub: Context = { ...ctx, root: false };
    if ((ctx.root || s["x-kubernetes-embedded-resource"]) && META_FIELDS.has(name)) {
      sub = {
        ...sub,
        insideMeta: true,
        forbidDefaults: ctx.root ? `in top-level ${name}` : sub.forbidDefaults,
      };
    }
    openAPIRules(p, prop(path, name), sub, errors);
  }
  if (s.items) openAPIRules(s.items, child(path, "items"), { ...ctx, root: false }, errors);
  if (s["x-kubernetes-preserve-unknown-fields"] === false) {
    errors.push(
      invalid(child(path, "x-kubernetes-preserve-unknown-fields"), false, "must be true or undefined"),
    );
  }
  listAndMapTypes(s, path, errors);
}

function listAndMapTypes(s: Schema, path: string, errors: FieldError[]): void {
  const mapType = s["x-kubernetes-map-type"];
  if (mapType !== undefined && s.type !== "object") {
    if (!s.type)
      errors.push(required(child(path, "type"), "must be object if x-kubernetes-map-type is specified"));
    else
      errors.push(
        invalid(child(path, "type"), s.type, "must be object if x-kubernetes-map-type is specified"),
      );
  }
  if (mapType !== undefined && mapType !== "atomic" && mapType !== "granular") {
    errors.push(notSupported(child(path, "x-kubernetes-map-type"), mapType, ["atomic", "granular"]));
  }
  const listType = s["x-kubernetes-list-type"];
  const keys = s["x-kubernetes-list-map-keys"] ?? [];
  const items = s.items as Schema | undefined;
  if (listType !== undefined && s.type !== "array") {
    if (!s.type)
      errors.push(required(child(path, "type"), "must be array if x-kubernetes-list-type is specified"));
    else
      errors.push(
        invalid(child(path, "type"), s.type, "must be array if x-kubernetes-list-type is specified"),
      );
  } else if (listType === "set" && items) {
    if (
      items.type === "array" &&
      items["x-kubernetes-list-type"] !== undefined &&
      items["x-kubernetes-list-type"] !== "atomic"
    ) {
      errors.push(
        invalid(
          `${path}.items.x-kubernetes-list-type`,
          items["x-kubernetes-list-type"],
          "must be atomic as item of a list with x-kubernetes-list-type=set",
        ),
      );
    }
    if (items.type === "object" && items["x-kubernetes-map-type"] !== "atomic") {
      errors.push(
        invalid(
          `${path}.items.x-kubernetes-map-type`,
          items["x-kubernetes-list-type"] ?? null,
          "must be atomic as item of a list with x-kubernetes-list-type=set",
        ),
      );
    }
  }
  if (listType !== undefined && !["atomic", "set", "map"].includes(listType)) {
    errors.push(notSupported(child(path, "x-kubernetes-list-type"), listType, ["atomic", "set", "map"]));
  }
  if (keys.length > 0) {
    if (listType === undefined)
      errors.push(
        required(
          child(path, "x-kubernetes-list-type"),
          "must be map if x-kubernetes-list-map-keys is non-empty",
        ),
      );
    else if (listType !== "map")
      errors.push(
        invalid(
          child(path, "x-kubernetes-list-type"),
          listType,
          "must be map if x-kubernetes-list-map-keys is non-empty",
        ),
      );
  }
  if (listType === "map") {
    if (keys.length === 0)
      errors.push(
        required(
          child(path, "x-kubernetes-list-map-keys"),
          "must not be empty if x-kubernetes-list-type is map",
        ),
      );
    if (!items)
      errors.push(required(child(path, "items"), "must have a schema if x-kubernetes-list-type is map"));
    else if (items.type !== "object") {
      errors.push(
        invalid(
          `${path}.items.type`,
          items.type ?? "",
          "must be object if parent array's x-kubernetes-list-type is map",
        ),
      );
    } else {
      const seen = new Set<string>();
      for (const key of keys) {
        const field = propertyOf(items.properties, key);
        if (!field)
          errors.push(
            invalid(
              child(path, "x-kubernetes-list-map-keys"),
              keys,
              "entries must all be names of item properties",
            ),
          );
        else if (field.type === "array" || field.type === "object") {
          errors.push(
            invalid(
              `${path}.items.properties[${key}].type`,
              items.type,
              "must be a scalar type if parent array's x-kubernetes-list-type is map",
            ),
          );
        }
        if (seen.has(key))
          errors.push(
            invalid(child(path, "x-kubernetes-list-map-keys"), keys, "must not contain duplicate entries"),
          );
        seen.add(key);
      }
    }
  }
  // validateMapListKeysMapSet
  if (items && (listType === "set" || listType === "map")) {
    if (items.nullable)
      errors.push(
        forbidden(`${path}.items.nullable`, `cannot be nullable when x-kubernetes-list-type is ${listType}`),
      );
    if (listType === "map") {
      for (const key of keys) {
        const field = propertyOf(items.properties, key);
        if (!field) continue;
        if (!items.required?.includes(key) && field.default === undefined) {
          errors.push(
            required(
              `${path}.items.properties[${key}].default`,
              "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
            ),
          );
        }
        if (field.nullable) {
          errors.push(
            forbidden(
              `${path}.items.properties[${key}].nullable`,
              "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
            ),
          );
        }
      }
    }
  }
}
