// OpenAPI documents for custom resources, shaped like the ones kube-apiserver publishes, so that
// `kubectl explain`, kubectl's field-validation probe (the PATCH operation's `fieldValidation` parameter)
// and client-side apply (JSON merge patch for CRs: no strategic-merge content type) behave as usual.
import { createHash } from "node:crypto";
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";
import {
  API_VERSION_DESCRIPTION,
  DELETE_OPTIONS,
  KIND_DESCRIPTION,
  LIST_META,
  LIST_META_DESCRIPTION,
  META_SCHEMAS,
  OBJECT_META,
  OBJECT_META_DESCRIPTION,
  PATCH,
  REF,
  STATUS,
} from "./meta-schemas.ts";

/** The parts of an apiextensions.k8s.io/v1 CustomResourceDefinition the documents are built from. */
export interface CustomResourceDefinitionLike {
  spec: {
    group: string;
    scope: string;
    names: { kind: string; listKind?: string; plural: string; singular?: string };
    versions: {
      name: string;
      served?: boolean;
      storage?: boolean;
      deprecated?: boolean;
      schema?: { openAPIV3Schema?: JSONSchemaProps };
      subresources?: { status?: object; scale?: object };
    }[];
  };
}

type Doc = "v2" | "v3";
type GVK = { group: string; version: string; kind: string };

// Kubernetes' own groups are named after their Go packages: "" is core, "coordination.k8s.io" is coordination.
function builtinGroup(group: string): string | undefined {
  if (group === "") return "core";
  if (!group.includes(".")) return group;
  return group.endsWith(".k8s.io") ? group.slice(0, -".k8s.io".length) : undefined;
}

/**
 * kube's definition name of a kind: `dev.kiln.v1alpha1.Build` for `kiln.dev`, `io.k8s.api.core.v1.Pod`
 * for the core group, `io.k8s.api.coordination.v1.Lease` for `coordination.k8s.io`.
 */
export function definitionName(group: string, version: string, kind: string): string {
  const builtin = builtinGroup(group);
  if (builtin !== undefined) return `io.k8s.api.${builtin}.${version}.${kind}`;
  return [...group.split(".").reverse(), version, kind].join(".");
}

/** `/api/v1` for the core group, `/apis/<group>/<version>` for the others. */
export function groupVersionPath(group: string, version: string): string {
  return group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
}

// The group as operation ids and tags spell it: "KilnDev", "Core", "Coordination".
const groupWord = (group: string) => builtinGroup(group) ?? group;

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

// --- paths -------------------------------------------------------------------------------------------

interface Param {
  name: string;
  in: "query" | "path";
  description: string;
  type: "string" | "boolean" | "integer";
  required?: boolean;
}

const q = (name: string, description: string, type: Param["type"] = "string"): Param => ({
  name,
  in: "query",
  description,
  type,
});
const DRY_RUN = q(
  "dryRun",
  "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed",
);
const FIELD_MANAGER = q(
  "fieldManager",
  "fieldManager is a name associated with the actor or entity that is making these changes.",
);
const FIELD_VALIDATION = q(
  "fieldValidation",
  "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict",
);
const FORCE = q(
  "force",
  'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people.',
  "boolean",
);
const PRETTY = q("pretty", "If 'true', then the output is pretty printed.");
const LIST_PARAMS = [
  q("allowWatchBookmarks", 'allowWatchBookmarks requests watch events with type "BOOKMARK".', "boolean"),
  q("continue", "The continue option should be set when retrieving more results from the server."),
  q(
    "fieldSelector",
    "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
  ),
  q(
    "labelSelector",
    "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
  ),
  q("limit", "limit is a maximum number of responses to return for a list call.", "integer"),
  q(
    "resourceVersion",
    "resourceVersion sets a constraint on what resource versions a request may be served from.",
  ),
  q("resourceVersionMatch", "resourceVersionMatch determines how resourceVersion is applied to list calls."),
  q("sendInitialEvents", "`sendInitialEvents=true` may be set together with `watch=true`.", "boolean"),
  q("timeoutSeconds", "Timeout for the list/watch call.", "integer"),
  q(
    "watch",
    "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.",
    "boolean",
  ),
];
const DELETE_PARAMS = [
  DRY_RUN,
  q("gracePeriodSeconds", "The duration in seconds before the object should be deleted.", "integer"),
  q("orphanDependents", "Deprecated: please use the PropagationPolicy.", "boolean"),
  q("propagationPolicy", "Whether and how garbage collection will be performed."),
];

interface Operation {
  action: string;
  verbName: string;
  description: string;
  params: Param[];
  body?: { ref: string; contentTypes: string[] };
  response: string;
  gvk: GVK;
  codes: string[];
  watchable?: boolean;
}

const JSON_TYPES = ["application/json", "application/yaml"];
const PATCH_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/apply-patch+yaml",
];

function camel(text: string): string {
  return text
    .split(/[.-]/)
    .map((s) => s.charAt(0).toUpperCase() + s.slice(1))
    .join("");
}

function resourcePaths(crd: CustomResourceDefinitionLike, version: string) {
  const { group, names, scope } = crd.spec;
  const { kind, plural } = names;
  const listKind = names.listKind ?? `${kind}List`;
  const gvk = { group, version, kind };
  const namespaced = scope === "Namespaced";
  const id = `${camel(groupWord(group))}${camel(version)}${namespaced ? "Namespaced" : ""}${kind}`;
  const itemRef = definitionName(group, version, kind);
  const listRef = definitionName(group, version, listKind);
  const base = `${groupVersionPath(group, version)}${namespaced ? "/namespaces/{namespace}" : ""}/${plural}`;
  const nsParam: Param[] = namespaced
    ? [
        {
          name: "namespace",
          in: "path",
          description: "object name and auth scope, such as for teams and projects",
          type: "string",
          required: true,
        },
      ]
    : [];
  const nameParam = (what: string): Param => ({
    name: "name",
    in: "path",
    description: `name of the ${what}`,
    type: "string",
    required: true,
  });
  const write = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
  const paths: Record<string, { params: Param[]; ops: Record<string, Operation & { id: string }> }> = {};
  const op = (o: Omit<Operation, "gvk">, opId: string) => ({ ...o, gvk, id: opId });

  paths[base] = {
    params: [...nsParam, PRETTY],
    ops: {
      get: op(
        {
          action: "list",
          verbName: "list",
          description: `list objects of kind ${kind}`,
          params: LIST_PARAMS,
          response: listRef,
          codes: ["200"],
          watchable: true,
        },
        `list${id}`,
      ),
      post: op(
        {
          action: "post",
          verbName: "create",
          description: `create a ${kind}`,
          params: write,
          body: { ref: itemRef, contentTypes: ["application/json", "application/yaml"] },
          response: itemRef,
          codes: ["200", "201", "202"],
        },
        `create${id}`,
      ),
      delete: op(
        {
          action: "deletecollection",
          verbName: "deletecollection",
          description: `delete collection of ${kind}`,
          params: [
            ...DELETE_PARAMS,
            ...LIST_PARAMS.filter((p) => p.name !== "watch" && p.name !== "allowWatchBookmarks"),
          ],
          body: { ref: DELETE_OPTIONS, contentTypes: ["application/json", "application/yaml"] },
          response: STATUS,
          codes: ["200"],
        },
        `deletecollection${id}`,
      ),
    },
  };
  paths[`${base}/{name}`] = {
    params: [nameParam(kind), ...nsParam, PRETTY],
    ops: {
      get: op(
        {
          action: "get",
          verbName: "read",
          description: `read the specified ${kind}`,
          params: [
            q(
              "resourceVersion",
              "resourceVersion sets a constraint on what resource versions a request may be served from.",
            ),
          ],
          response: itemRef,
          codes: ["200"],
        },
        `read${id}`,
      ),
      put: op(
        {
          action: "put",
          verbName: "replace",
          description: `replace the specified ${kind}`,
          params: write,
          body: { ref: itemRef, contentTypes: ["application/json", "application/yaml"] },
          response: itemRef,
          codes: ["200", "201"],
        },
        `replace${id}`,
      ),
      delete: op(
        {
          action: "delete",
          verbName: "delete",
          description: `delete a ${kind}`,
          params: DELETE_PARAMS,
          body: { ref: DELETE_OPTIONS, contentTypes: ["application/json", "application/yaml"] },
          response: STATUS,
          codes: ["200", "202"],
        },
        `delete${id}`,
      ),
      patch: op(
        {
          action: "patch",
          verbName: "patch",
          description: `partially update the specified ${kind}`,
          params: [...write, FORCE],
          body: { ref: PATCH, contentTypes: PATCH_TYPES },
          response: itemRef,
          codes: ["200"],
        },
        `patch${id}`,
      ),
    },
  };
  const versionSpec = crd.spec.versions.find((v) => v.name === version);
  if (versionSpec?.subresources?.status) {
    paths[`${base}/{name}/status`] = {
      params: [nameParam(kind), ...nsParam, PRETTY],
      ops: {
        get: op(
          {
            action: "get",
            verbName: "read",
            description: `read status of the specified ${kind}`,
            params: [
              q(
                "resourceVersion",
                "resourceVersion sets a constraint on what resource versions a request may be served from.",
              ),
            ],
            response: itemRef,
            codes: ["200"],
          },
          `read${id}Status`,
        ),
        put: op(
          {
            action: "put",
            verbName: "replace",
            description: `replace status of the specified ${kind}`,
            params: write,
            body: { ref: itemRef, contentTypes: ["application/json", "application/yaml"] },
            response: itemRef,
            codes: ["200", "201"],
          },
          `replace${id}Status`,
        ),
        patch: op(
          {
            action: "patch",
            verbName: "patch",
            description: `partially update status of the specified ${kind}`,
            params: [...write, FORCE],
            body: { ref: PATCH, contentTypes: PATCH_TYPES },
            response: itemRef,
            codes: ["200"],
          },
          `patch${id}Status`,
        ),
      },
    };
  }
  if (namespaced) {
    paths[`${groupVersionPath(group, version)}/${plural}`] = {
      params: [PRETTY],
      ops: {
        get: op(
          {
            action: "list",
            verbName: "list",
            description: `list objects of kind ${kind}`,
            params: LIST_PARAMS,
            response: listRef,
            codes: ["200"],
            watchable: true,
          },
          `list${camel(groupWord(group))}${camel(version)}${kind}ForAllNamespaces`,
        ),
      },
    };
  }
  return paths;
}

function paramV3(p: Param) {
  return {
    name: p.name,
    in: p.in,
    description: p.description,
    ...(p.required ? { required: true } : {}),
    schema: { type: p.type, uniqueItems: true },
  };
}

function paramV2(p: Param) {
  return {
    name: p.name,
    in: p.in,
    description: p.description,
    ...(p.required ? { required: true } : {}),
    type: p.type,
    uniqueItems: true,
  };
}

function operationV3(o: Operation & { id: string }, tag: string) {
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const types = o.watchable ? [...JSON_TYPES, "application/json;stream=watch"] : JSON_TYPES;
  return {
    tags: [tag],
    description: o.description,
    operationId: o.id,
    ...(o.params.length ? { parameters: o.params.map(paramV3) } : {}),
    ...(o.body
      ? {
          requestBody: {
            content: Object.fromEntries(o.body.contentTypes.map((t) => [t, { schema: ref(o.body!.ref) }])),
            required: true,
          },
        }
      : {}),
    responses: {
      ...Object.fromEntries(
        o.codes.map((code) => [
          code,
          {
            description: code === "201" ? "Created" : code === "202" ? "Accepted" : "OK",
            content: Object.fromEntries(types.map((t) => [t, { schema: ref(o.response) }])),
          },
        ]),
      ),
      "401": { description: "Unauthorized" },
    },
    "x-kubernetes-action": o.action,
    "x-kubernetes-group-version-kind": o.gvk,
  };
}

function operationV2(o: Operation & { id: string }, tag: string) {
  const ref = (name: string) => ({ $ref: `#/definitions/${name}` });
  return {
    description: o.description,
    consumes: o.body ? o.body.contentTypes : ["*/*"],
    produces: o.watchable ? [...JSON_TYPES, "application/json;stream=watch"] : JSON_TYPES,
    schemes: ["https"],
    tags: [tag],
    operationId: o.id,
    parameters: [
      ...(o.body ? [{ name: "body", in: "body", required: true, schema: ref(o.body.ref) }] : []),
      ...o.params.map(paramV2),
    ],
    responses: {
      ...Object.fromEntries(
        o.codes.map((code) => [
          code,
          {
            description: code === "201" ? "Created" : code === "202" ? "Accepted" : "OK",
            schema: ref(o.response),
          },
        ]),
      ),
      "401": { description: "Unauthorized" },
    },
    "x-kubernetes-action": o.action,
    "x-kubernetes-group-version-kind": o.gvk,
  };
}

const tagOf = (group: string, version: string) =>
  `${groupWord(group)
    .split(/[.-]/)
    .map((s, i) => (i === 0 ? s : s.charAt(0).toUpperCase() + s.slice(1)))
    .join("")}_${version}`;

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
      securitySchemes: {
        BearerToken: {
          type: "apiKey",
          description: "Bearer Token authentication",
          name: "authorization",
          in: "header",
        },
      },
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
    securityDefinitions: {
      BearerToken: {
        type: "apiKey",
        description: "Bearer Token authentication",
        name: "authorization",
        in: "header",
      },
    },
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
