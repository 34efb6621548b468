// The checks apiextensions-apiserver makes on a v1 CustomResourceDefinition's openAPIV3Schema when the CRD
// is created or updated, in its order: the structural-schema invariants (ValidateStructural, sorted by
// message), then — only when those pass — the defaults (ValidateDefaults), then the OpenAPI schema rules
// (ValidateCustomResourceDefinitionOpenAPISchema). Field paths use kube's notation
// (`properties[spec].properties[steps].items.type`) below the `path` given for the schema itself.
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";
import { checkDefaults } from "./crd-defaults.ts";
import { child, prop, type Schema } from "./crd-paths.ts";
import { openAPIRules } from "./crd-schema-rules.ts";
import { type FieldError, forbidden, formatFieldError, invalid, required } from "./field-error.ts";
import { propertyOf } from "./go-format.ts";

type Level = "root" | "field" | "item";

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

// ValidateStructural: the invariants every node of a structural schema keeps.
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
