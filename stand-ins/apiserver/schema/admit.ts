// The create/update path of a custom resource in kube-apiserver, in its order.
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";
import { applyDefaults } from "./defaults.ts";
import type { FieldError } from "./field-error.ts";
import { cloneJSON } from "./go-format.ts";
import { pruneInPlace } from "./prune.ts";
import { validateObject } from "./validate.ts";

/**
 * What kube-apiserver does to a custom resource on create/update, in its order: prune (reporting unknown
 * fields), default, validate. `object` is what would be stored when `errors` is empty.
 */
export function admitCustomResource(
  obj: unknown,
  schema: JSONSchemaProps,
): { object: unknown; unknownFields: string[]; errors: FieldError[] } {
  const object = cloneJSON(obj);
  const unknownFields = pruneInPlace(object, schema);
  applyDefaults(object, schema);
  return { object, unknownFields, errors: validateObject(object, schema) };
}
