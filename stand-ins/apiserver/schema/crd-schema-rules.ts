// ValidateCustomResourceDefinitionOpenAPISchema of apiextensions: the OpenAPI rules a v1 CRD schema obeys
// beyond being structural (types, uniqueItems, properties vs additionalProperties, defaults in ObjectMeta,
// list and map types and their keys).

import { child, META_FIELDS, prop, type Schema, TYPES } from "./crd-paths.ts";
import { type FieldError, forbidden, invalid, notSupported, required } from "./field-error.ts";
import { propertyOf } from "./go-format.ts";

export interface Context {
  root: boolean;
  insideMeta: boolean;
  forbidDefaults: string;
}

export function openAPIRules(s: Schema, path: string, ctx: Context, errors: FieldError[]): void {
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
          items["x-kubernetes-map-type"] ?? null,
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
