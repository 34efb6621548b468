// The structural-schema rules apiextensions-apiserver enforces on a v1 CustomResourceDefinition's
// openAPIV3Schema when the CRD is created or updated. Field paths use kube's notation
// (`properties[spec].properties[steps].items.type`) below the `path` given for the schema itself.
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";
import { type FieldError, forbidden, invalid, notSupported, required } from "./field-error.ts";
import { goJSON, propertyOf } from "./go-format.ts";
import { pruneObject } from "./prune.ts";
import { validateObject } from "./validate.ts";

type Level = "root" | "field" | "item";
const TYPES = ["array", "boolean", "integer", "number", "object", "string"];
const SCALARS = new Set(["boolean", "integer", "number", "string"]);

/**
 * Errors that make a v1 CRD's schema unacceptable (422 Invalid on the CRD). `path` is where the schema sits
 * in the CRD, such as `spec.versions[0].schema.openAPIV3Schema` (the default).
 */
export function checkStructuralSchema(
  schema: JSONSchemaProps,
  path = "spec.versions[0].schema.openAPIV3Schema",
): FieldError[] {
  const errors: FieldError[] = [];
  checkNode(schema, path, "root", errors);
  return errors;
}

function checkNode(s: JSONSchemaProps, path: string, level: Level, errors: FieldError[]): void {
  const at = (key: string) => `${path}.${key}`;
  const prop = (key: string) => `${path}.properties[${key}]`;
  const preserve = s["x-kubernetes-preserve-unknown-fields"];
  const intOrString = s["x-kubernetes-int-or-string"];
  const embedded = s["x-kubernetes-embedded-resource"];

  if (embedded && s.type !== "object") {
    if (!s.type)
      errors.push(required(at("type"), "must be object if x-kubernetes-embedded-resource is true"));
    else errors.push(invalid(at("type"), s.type, "must be object if x-kubernetes-embedded-resource is true"));
  } else if (!s.type && !intOrString && !preserve) {
    const where = {
      root: "at the root",
      field: "for specified object fields",
      item: "for specified array items",
    };
    errors.push(required(at("type"), `must not be empty ${where[level]}`));
  } else if (s.type && !TYPES.includes(s.type)) {
    errors.push(notSupported(at("type"), s.type, TYPES));
  }
  if (level === "root" && s.type && s.type !== "object")
    errors.push(invalid(at("type"), s.type, "must be object at the root"));
  if (level === "root" && s.nullable)
    errors.push(forbidden(at("nullable"), "nullable cannot be true at the root"));
  if (intOrString && s.type) {
    errors.push(invalid(at("type"), s.type, "must be empty if x-kubernetes-int-or-string is true"));
  }
  if (preserve === false)
    errors.push(invalid(at("x-kubernetes-preserve-unknown-fields"), false, "must be true or undefined"));
  if (embedded && !preserve && Object.keys(s.properties ?? {}).length === 0) {
    errors.push(
      required(
        at("properties"),
        "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
      ),
    );
  }
  if (s.properties && s.additionalProperties !== undefined) {
    errors.push(
      forbidden(at("additionalProperties"), "additionalProperties and properties are mutual exclusive"),
    );
  } else if (s.additionalProperties === false) {
    errors.push(forbidden(at("additionalProperties"), "additionalProperties cannot be set to false"));
  }
  if (s.uniqueItems) {
    errors.push(
      forbidden(
        at("uniqueItems"),
        "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
      ),
    );
  }
  if (s.type === "array" && !s.items) errors.push(required(at("items"), "must be specified"));
  if ((s.properties || s.additionalProperties) && s.type && s.type !== "object") {
    errors.push(
      invalid(at("type"), s.type, "must be object if properties or additionalProperties are specified"),
    );
  }

  if (level === "root" || embedded) checkResourceFields(s, prop, errors);
  if (level === "root") checkRootMetadata(s, prop, errors);
  checkListType(s, path, errors);
  checkDefault(s, path, errors);

  for (const [name, child] of Object.entries(s.properties ?? {})) {
    checkNode(child, prop(name), "field", errors);
  }
  if (typeof s.additionalProperties === "object")
    checkNode(s.additionalProperties, at("additionalProperties"), "field", errors);
  if (s.items) checkNode(s.items, at("items"), "item", errors);
}

function checkResourceFields(s: JSONSchemaProps, prop: (key: string) => string, errors: FieldError[]): void {
  const expected = { metadata: "object", apiVersion: "string", kind: "string" } as const;
  for (const [key, type] of Object.entries(expected)) {
    const field = propertyOf(s.properties, key);
    if (field && field.type !== type)
      errors.push(invalid(`${prop(key)}.type`, field.type ?? "", `must be ${type}`));
  }
}

// Only name and generateName may be restricted at the root: the rest of ObjectMeta belongs to the API server.
function checkRootMetadata(s: JSONSchemaProps, prop: (key: string) => string, errors: FieldError[]): void {
  const metadata = s.properties?.metadata;
  if (!metadata) return;
  const { type: _type, properties = {}, ...rest } = metadata;
  const others = Object.keys(properties).filter((k) => k !== "name" && k !== "generateName");
  if (others.length > 0 || Object.keys(rest).length > 0) {
    errors.push(
      forbidden(
        prop("metadata"),
        "must not specify anything other than name and generateName, but metadata is implicitly specified",
      ),
    );
  }
  for (const key of ["name", "generateName"]) {
    const field = properties[key];
    if (field && field.type !== "string") {
      errors.push(invalid(`${prop("metadata")}.properties[${key}].type`, field.type ?? "", "must be string"));
    }
  }
}

function checkListType(s: JSONSchemaProps, path: string, errors: FieldError[]): void {
  const listType = s["x-kubernetes-list-type"];
  const keys = s["x-kubernetes-list-map-keys"];
  const at = (key: string) => `${path}.${key}`;
  if (listType !== undefined) {
    if (!["atomic", "set", "map"].includes(listType)) {
      errors.push(notSupported(at("x-kubernetes-list-type"), listType, ["atomic", "set", "map"]));
    }
    if (s.type !== "array") {
      errors.push(invalid(at("type"), s.type ?? "", "must be array if x-kubernetes-list-type is specified"));
    }
  }
  if (listType === "set" && s.items?.type && !SCALARS.has(s.items.type)) {
    errors.push(
      invalid(
        `${at("items")}.type`,
        s.items.type,
        "must be a scalar type if parent array type is x-kubernetes-list-type=set",
      ),
    );
  }
  if (listType === "map") {
    if (!keys || keys.length === 0) {
      errors.push(
        required(at("x-kubernetes-list-map-keys"), "must not be empty if x-kubernetes-list-type is map"),
      );
    }
    if (s.items && s.items.type !== "object") {
      errors.push(
        invalid(
          `${at("items")}.type`,
          s.items.type ?? "",
          "must be object if parent array's x-kubernetes-list-type is map",
        ),
      );
    }
    for (const key of keys ?? []) {
      const field = propertyOf(s.items?.properties, key);
      if (!field) {
        errors.push(
          invalid(at("x-kubernetes-list-map-keys"), keys, `entries must all be names of item properties`),
        );
      } else if (!s.items?.required?.includes(key) && field.default === undefined) {
        errors.push(
          required(
            `${at("items")}.properties[${key}]`,
            "all map keys must be required or have a default value",
          ),
        );
      }
    }
  } else if (keys !== undefined) {
    errors.push(forbidden(at("x-kubernetes-list-map-keys"), "requires x-kubernetes-list-type: map"));
  }
}

// A default must already be pruned and must validate against its own schema.
function checkDefault(s: JSONSchemaProps, path: string, errors: FieldError[]): void {
  if (s.default === undefined) return;
  const at = `${path}.default`;
  const wrapped = { ...s, "x-kubernetes-embedded-resource": false } as JSONSchemaProps;
  const { value, unknownFields } = pruneObject(
    { x: s.default },
    { type: "object", properties: { x: wrapped } },
  );
  const pruned = (value as { x: unknown }).x;
  if (unknownFields.length > 0 || goJSON(pruned) !== goJSON(s.default)) {
    const fields = unknownFields.map((f) => f.replace(/^x\.?/, "")).filter(Boolean);
    errors.push(
      invalid(at, s.default, `must not have unknown fields${fields.length ? `: ${fields.join(", ")}` : ""}`),
    );
    return;
  }
  for (const error of validateObject({ x: s.default }, { type: "object", properties: { x: wrapped } })) {
    const inner = error.field.replace(/^x/, "");
    errors.push({
      ...error,
      field: `${at}${inner}`,
      message: error.message.replaceAll(/(?<=: )x(?=[.[ ])/g, "default"),
    });
  }
}
