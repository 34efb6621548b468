// OpenAPI documents for custom resources, shaped like the ones kube-apiserver publishes, so that
// `kubectl explain`, kubectl's field-validation probe (the PATCH operation's `fieldValidation` parameter)
// and client-side apply (JSON merge patch for CRs: no strategic-merge content type) behave as usual.
import { createHash } from "node:crypto";
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";
import {
  API_VERSION_DESCRIPTION,
  KIND_DESCRIPTION,
  LIST_META,
  LIST_META_DESCRIPTION,
  META_SCHEMAS,
  OBJECT_META,
  OBJECT_META_DESCRIPTION,
  REF,
} from "./meta-schemas.ts";
import { type CustomResourceDefinitionLike, definitionName, type GVK } from "./openapi-names.ts";
import { operationV2, operationV3, paramV2, paramV3, resourcePaths, tagOf } from "./openapi-paths.ts";

export type { CustomResourceDefinitionLike } from "./openapi-names.ts";
export { definitionName, groupVersionPath } from "./openapi-names.ts";

type Doc = "v2" | "v3";

const refPrefix = (doc: Doc) => (doc === "v3" ? "#/components/schemas/" : "#/definitions/");

function withRefs<T>(value: T, doc: Doc): T {
  return JSON.parse(JSON.stringify(value).replaceAll(REF, refPrefix(doc))) as T;
}

function servedVersions(crd: CustomResourceDefinitionLike, version?: string) {
  return crd.spec.versions.filter((v) => v.served !== false && (version === undefined || v.name === version));
}

// The published form of a CR schema: metadata becomes a reference to ObjectMeta, apiVersion and kind get
// their usual descriptions, and the schema names its group-version-kind.
function resourceSchema(schema: JSONSchemaProps | undefined, gvk: GVK, doc: Doc): object {
  const published = convert(
    structuredClone(schema ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true }),
    doc,
  );
  const properties = (published.properties ?? {}) as Record<string, unknown>;
  const metadata =
    doc === "v3"
      ? {
          description: OBJECT_META_DESCRIPTION,
          default: {},
          allOf: [{ $ref: `${refPrefix(doc)}${OBJECT_META}` }],
        }
      : { description: OBJECT_META_DESCRIPTION, $ref: `${refPrefix(doc)}${OBJECT_META}` };
  published.properties = {
    ...properties,
    apiVersion: { type: "string", description: API_VERSION_DESCRIPTION },
    kind: { type: "string", description: KIND_DESCRIPTION },
    metadata,
  };
  return { ...published, "x-kubernetes-group-version-kind": [gvk] };
}

// v3 keeps the schema; v2 cannot say `nullable`, so kube drops it (and the type it qualifies).
function convert(node: JSONSchemaProps, doc: Doc): JSONSchemaProps & Record<string, unknown> {
  const out = { ...node } as JSONSchemaProps & Record<string, unknown>;
  if (out["x-kubernetes-int-or-string"] && doc === "v3")
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  if (doc === "v2" && out.nullable) {
    delete out.nullable;
    delete out.type;
  }
  if (out.properties) {
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, convert(v, doc)]));
  }
  if (out.items) out.items = convert(out.items, doc);
  if (typeof out.additionalProperties === "object")
    out.additionalProperties = convert(out.additionalProperties, doc);
  return out;
}

function listSchema(crd: CustomResourceDefinitionLike, version: string, doc: Doc): object {
  const { kind, plural } = crd.spec.names;
  const listKind = crd.spec.names.listKind ?? `${kind}List`;
  const item = `${refPrefix(doc)}${definitionName(crd.spec.group, version, kind)}`;
  const meta = `${refPrefix(doc)}${LIST_META}`;
  return {
    description: `${listKind} is a list of ${kind}`,
    type: "object",
    required: ["items"],
    properties: {
      apiVersion: { type: "string", description: API_VERSION_DESCRIPTION },
      items: {
        type: "array",
        description: `List of ${plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
        items: { $ref: item },
      },
      kind: { type: "string", description: KIND_DESCRIPTION },
      metadata:
        doc === "v3"
          ? { description: LIST_META_DESCRIPTION, default: {}, allOf: [{ $ref: meta }] }
          : { description: LIST_META_DESCRIPTION, $ref: meta },
    },
    "x-kubernetes-group-version-kind": [{ group: crd.spec.group, kind: listKind, version }],
  };
}

/** How kube's documents describe its bearer-token authentication (the same in v2 and v3). */
const BEARER_TOKEN = {
  type: "apiKey",
  description: "Bearer Token authentication",
  name: "authorization",
  in: "header",
};

/**
 * The OpenAPI v3 document kube serves at `/openapi/v3/apis/<group>/<version>`, for the served versions of the
 * given CRDs that belong to that group and version (other CRDs are ignored).
 */
export function openAPIV3ForGroupVersion(
  crds: CustomResourceDefinitionLike[],
  group: string,
  version: string,
): object {
  const schemas: Record<string, unknown> = {};
  const paths: Record<string, unknown> = {};
  for (const crd of crds.filter((c) => c.spec.group === group)) {
    for (const v of servedVersions(crd, version)) {
      const { kind } = crd.spec.names;
      const listKind = crd.spec.names.listKind ?? `${kind}List`;
      schemas[definitionName(group, version, kind)] = resourceSchema(
        v.schema?.openAPIV3Schema,
        { group, version, kind },
        "v3",
      );
      schemas[definitionName(group, version, listKind)] = listSchema(crd, version, "v3");
      for (const [path, { params, ops }] of Object.entries(resourcePaths(crd, version))) {
        paths[path] = {
          ...Object.fromEntries(
            Object.entries(ops).map(([method, o]) => [method, operationV3(o, tagOf(group, version))]),
          ),
          parameters: params.map(paramV3),
        };
      }
    }
  }
  Object.assign(schemas, withRefs(META_SCHEMAS, "v3"));
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.34.0" },
    paths,
    components: {
      schemas: sortObject(schemas),
      securitySchemes: { BearerToken: BEARER_TOKEN },
    },
    security: [{ BearerToken: [] }],
  };
}

/** The swagger 2.0 document kube serves at `/openapi/v2`, with every served version of the given CRDs. */
export function openAPIV2(crds: CustomResourceDefinitionLike[]): object {
  const definitions: Record<string, unknown> = {};
  const paths: Record<string, unknown> = {};
  for (const crd of crds) {
    const { group } = crd.spec;
    for (const v of servedVersions(crd)) {
      const { kind } = crd.spec.names;
      const listKind = crd.spec.names.listKind ?? `${kind}List`;
      definitions[definitionName(group, v.name, kind)] = resourceSchema(
        v.schema?.openAPIV3Schema,
        { group, version: v.name, kind },
        "v2",
      );
      definitions[definitionName(group, v.name, listKind)] = listSchema(crd, v.name, "v2");
      for (const [path, { params, ops }] of Object.entries(resourcePaths(crd, v.name))) {
        paths[path] = {
          ...Object.fromEntries(
            Object.entries(ops).map(([method, o]) => [method, operationV2(o, tagOf(group, v.name))]),
          ),
          parameters: params.map(paramV2),
        };
      }
    }
  }
  Object.assign(definitions, withRefs(META_SCHEMAS, "v2"));
  return {
    swagger: "2.0",
    info: { title: "Kubernetes", version: "v1.34.0" },
    paths: sortObject(paths),
    definitions: sortObject(definitions),
    securityDefinitions: { BearerToken: BEARER_TOKEN },
    security: [{ BearerToken: [] }],
  };
}

/**
 * The `/openapi/v3` index: for each served path (`apis/kiln.dev/v1alpha1`, `api/v1`) the URL of its document
 * with a content hash, as kubectl uses it to find and cache documents.
 */
export function openAPIV3Index(documents: Record<string, object>): {
  paths: Record<string, { serverRelativeURL: string }>;
} {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [path, document] of Object.entries(documents)) {
    const hash = createHash("sha512").update(JSON.stringify(document)).digest("hex").toUpperCase();
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  }
  return { paths };
}

function sortObject<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
