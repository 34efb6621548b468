// Shared by the CRD schema checks: kube's field-path notation for schema nodes and the node type.
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";

export type Schema = JSONSchemaProps & { "x-kubernetes-map-type"?: string };
export const TYPES = ["array", "boolean", "integer", "number", "object", "string"];
export const META_FIELDS: ReadonlySet<string> = new Set(["metadata", "apiVersion", "kind"]);
export const child = (path: string, key: string): string => `${path}.${key}`;
export const prop = (path: string, key: string): string => `${path}.properties[${key}]`;
