// Turns a zod schema into a Kubernetes structural OpenAPI v3 schema, so the CRDs are generated
// from the same definitions the code validates with and the two cannot drift.
import { z } from "zod";

export interface JSONSchemaProps {
  type?: string;
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  nullable?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-embedded-resource"?: boolean;
}

const KEPT = new Set([
  "type",
  "description",
  "properties",
  "additionalProperties",
  "items",
  "required",
  "enum",
  "default",
  "pattern",
  "format",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "nullable",
]);
// zod bounds z.int() by the safe-integer range; Kubernetes integers are int64, so those bounds add nothing.
const SAFE_BOUND = Number.MAX_SAFE_INTEGER;

const isAnything = (node: unknown) =>
  typeof node === "object" && node !== null && Object.keys(node).every((k) => k === "$schema");

function toStructural(node: Record<string, unknown>, path: string): JSONSchemaProps {
  // z.unknown() / z.any(): any JSON value, null included, kept as it is.
  if (isAnything(node)) return { nullable: true, "x-kubernetes-preserve-unknown-fields": true };
  for (const key of Object.keys(node)) {
    if (!KEPT.has(key) && key !== "$schema") {
      throw new Error(`${path}: "${key}" has no structural equivalent; simplify the zod schema`);
    }
  }
  if (typeof node.type !== "string")
    throw new Error(`${path}: every node of a structural schema needs a type`);
  const out: JSONSchemaProps = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema") continue;
    if (key === "properties") {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Record<string, unknown>>).map(([name, child]) => [
          name,
          toStructural(child, `${path}.${name}`),
        ]),
      );
    } else if (key === "additionalProperties") {
      // `false` is what pruning already does; a schema means a map. Beside properties, "anything"
      // (z.looseObject) means: keep unknown fields, as x-kubernetes-preserve-unknown-fields does.
      if (node.properties !== undefined && isAnything(value))
        out["x-kubernetes-preserve-unknown-fields"] = true;
      else if (value !== false)
        out.additionalProperties = toStructural(value as Record<string, unknown>, `${path}[*]`);
    } else if (key === "items") {
      out.items = toStructural(value as Record<string, unknown>, `${path}[]`);
    } else if ((key === "maximum" && value === SAFE_BOUND) || (key === "minimum" && value === -SAFE_BOUND)) {
    } else {
      (out as Record<string, unknown>)[key] = value;
    }
  }
  if (out.type === "object" && out.properties === undefined && out.additionalProperties === undefined) {
    out["x-kubernetes-preserve-unknown-fields"] = true;
  }
  return out;
}

export function structuralSchema(schema: z.ZodType): JSONSchemaProps {
  const json = z.toJSONSchema(schema, { target: "openapi-3.0", io: "input", unrepresentable: "throw" });
  return toStructural(json as Record<string, unknown>, "");
}
