// The one place the server calls the schema engine (test/apiserver/schema) for custom resources:
// pruning, defaulting, validation, the structural check of a CRD's schema.
import type { JSONSchemaProps } from "../../api/structural-schema.ts";
import type { StatusCause } from "./errors.ts";
import { defaultObject } from "./schema/defaults.ts";
import { pruneObject } from "./schema/prune.ts";
import { checkStructuralSchema } from "./schema/structural.ts";
import { validateObject } from "./schema/validate.ts";
import type { KubeObject } from "./storage.ts";

export type Schema = JSONSchemaProps;

/** Prunes in place; returns the unknown fields' paths. */
export function prune(o: KubeObject, schema: Schema): string[] {
  const { value, unknownFields } = pruneObject(o, schema);
  replaceContents(o, value as KubeObject);
  return unknownFields;
}

export function applyDefaults(o: KubeObject, schema: Schema): void {
  replaceContents(o, defaultObject(o, schema) as KubeObject);
}

export function validate(o: KubeObject, schema: Schema): StatusCause[] {
  return validateObject(o, schema);
}

export function checkStructural(schema: unknown, field: string): StatusCause[] {
  return checkStructuralSchema(schema as Schema, field);
}

function replaceContents(target: KubeObject, source: KubeObject): void {
  for (const k of Object.keys(target)) delete (target as Record<string, unknown>)[k];
  Object.assign(target, source);
}
