// The REST paths and operations of a custom resource in kube's OpenAPI documents: list, create,
// deletecollection, read, replace, patch, delete, the status subresource and the all-namespaces list,
// each with the group-version-kind kubectl looks for and the query parameters it probes.
import { DELETE_OPTIONS, PATCH, STATUS } from "./meta-schemas.ts";
import {
  type CustomResourceDefinitionLike,
  definitionName,
  type GVK,
  groupVersionPath,
  groupWord,
} from "./openapi-names.ts";

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

export function resourcePaths(crd: CustomResourceDefinitionLike, version: string) {
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

export function paramV3(p: Param) {
  return {
    name: p.name,
    in: p.in,
    description: p.description,
    ...(p.required ? { required: true } : {}),
    schema: { type: p.type, uniqueItems: true },
  };
}

export function paramV2(p: Param) {
  return {
    name: p.name,
    in: p.in,
    description: p.description,
    ...(p.required ? { required: true } : {}),
    type: p.type,
    uniqueItems: true,
  };
}

export function operationV3(o: Operation & { id: string }, tag: string) {
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

export function operationV2(o: Operation & { id: string }, tag: string) {
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

export const tagOf = (group: string, version: string) =>
  `${groupWord(group)
    .split(/[.-]/)
    .map((s, i) => (i === 0 ? s : s.charAt(0).toUpperCase() + s.slice(1)))
    .join("")}_${version}`;
