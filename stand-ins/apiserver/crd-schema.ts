// The one place the server calls the schema engine (stand-ins/apiserver/schema) for custom resources:
// pruning, defaulting, validation, the structural check of a CRD's schema.
import type { JSONSchemaProps } from "../../api/structural-schema.ts";
import type { StatusCause } from "./errors.ts";
import { applyDefaults as defaultInPlace } from "./schema/defaults.ts";
import { pruneInPlace } from "./schema/prune.ts";
import { checkStructuralSchema } from "./schema/structural.ts";
import { validateObject } from "./schema/validate.ts";
import type { KubeObject } from "./storage.ts";

export type Schema = JSONSchemaProps;

// The write path hands these its own copy of the request body (objects.ts `plain`), never a stored
// object, so they work in place: no second and third deep copy of every custom resource written.

/** Prunes in place; returns the unknown fields' paths. */
export function prune(o: KubeObject, schema: Schema): string[] {
  return pruneInPlace(o, schema);
}

export function applyDefaults(o: KubeObject, schema: Schema): void {
  defaultInPlace(o, schema);
}

export function validate(o: KubeObject, schema: Schema): StatusCause[] {
  return validateObject(o, schema);
}

export function checkStructural(schema: unknown, field: string): StatusCause[] {
  return checkStructuralSchema(schema as Schema, field);
}
