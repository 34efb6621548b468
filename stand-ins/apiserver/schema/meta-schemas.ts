// The apimachinery definitions every OpenAPI document of kube-apiserver carries beside the resources:
// ObjectMeta, ListMeta, Status, DeleteOptions, Patch, WatchEvent… `REF` is replaced by the document's
// reference prefix (`#/components/schemas/` in v3, `#/definitions/` in v2).
export const REF = "$REF$";
const META = "io.k8s.apimachinery.pkg.apis.meta.v1";
export const OBJECT_META = `${META}.ObjectMeta`;
export const LIST_META = `${META}.ListMeta`;
export const STATUS = `${META}.Status`;
export const DELETE_OPTIONS = `${META}.DeleteOptions`;
export const PATCH = `${META}.Patch`;
export const WATCH_EVENT = `${META}.WatchEvent`;

const ref = (name: string) => ({ $ref: `${REF}${name}` });
const allOf = (name: string, description: string, extra: object = {}) => ({
  description,
  allOf: [ref(name)],
  ...extra,
});
const string = (description: string, extra: object = {}) => ({ type: "string", description, ...extra });
const time = (description: string) => allOf(`${META}.Time`, description);
const stringMap = (description: string) => ({
  type: "object",
  description,
  additionalProperties: { type: "string", default: "" },
});

export const API_VERSION_DESCRIPTION =
  "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
export const KIND_DESCRIPTION =
  "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
export const OBJECT_META_DESCRIPTION =
  "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
export const LIST_META_DESCRIPTION =
  "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

const apiVersion = string(API_VERSION_DESCRIPTION);
const kind = string(KIND_DESCRIPTION);

/** The shared definitions, keyed by their kube names. */
export const META_SCHEMAS: Record<string, object> = {
  [`${META}.Time`]: {
    type: "string",
    format: "date-time",
    description:
      "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON. Wrappers are provided for many of the factory methods that the time package offers.",
  },
  [`${META}.MicroTime`]: {
    type: "string",
    format: "date-time",
    description: "MicroTime is version of Time with microsecond level precision.",
  },
  [`${META}.FieldsV1`]: {
    type: "object",
    description:
      "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.\n\nEach key is either a '.' representing the field itself, and will always map to an empty set, or a string representing a sub-field or item.",
  },
  [`${META}.ManagedFieldsEntry`]: {
    type: "object",
    description:
      "ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.",
    properties: {
      apiVersion: string(
        'APIVersion defines the version of this resource that this field set applies to. The format is "group/version" just like the top-level APIVersion field.',
      ),
      fieldsType: string(
        'FieldsType is the discriminator for the different fields format and version. There is currently only one possible value: "FieldsV1"',
      ),
      fieldsV1: allOf(
        `${META}.FieldsV1`,
        'FieldsV1 holds the first JSON version format as described in the "FieldsV1" type.',
      ),
      manager: string("Manager is an identifier of the workflow managing these fields."),
      operation: string(
        "Operation is the type of operation which lead to this ManagedFieldsEntry being created. The only valid values for this field are 'Apply' and 'Update'.",
      ),
      subresource: string(
        "Subresource is the name of the subresource used to update that object, or empty string if the object was updated through the main resource.",
      ),
      time: time("Time is the timestamp of when the ManagedFields entry was added."),
    },
  },
  [`${META}.OwnerReference`]: {
    type: "object",
    description:
      "OwnerReference contains enough information to let you identify an owning object. An owning object must be in the same namespace as the dependent, or be cluster-scoped, so there is no namespace field.",
    required: ["apiVersion", "kind", "name", "uid"],
    properties: {
      apiVersion: string("API version of the referent.", { default: "" }),
      blockOwnerDeletion: {
        type: "boolean",
        description:
          'If true, AND if the owner has the "foregroundDeletion" finalizer, then the owner cannot be deleted from the key-value store until this reference is removed.',
      },
      controller: {
        type: "boolean",
        description: "If true, this reference points to the managing controller.",
      },
      kind: string("Kind of the referent.", { default: "" }),
      name: string("Name of the referent.", { default: "" }),
      uid: string("UID of the referent.", { default: "" }),
    },
    "x-kubernetes-map-type": "atomic",
  },
  [OBJECT_META]: {
    type: "object",
    description:
      "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
    properties: {
      annotations: stringMap(
        "Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata. They are not queryable and should be preserved when modifying objects.",
      ),
      creationTimestamp: time(
        "CreationTimestamp is a timestamp representing the server time when this object was created. Populated by the system. Read-only. Null for lists.",
      ),
      deletionGracePeriodSeconds: {
        type: "integer",
        format: "int64",
        description:
          "Number of seconds allowed for this object to gracefully terminate before it will be removed from the system. Only set when deletionTimestamp is also set.",
      },
      deletionTimestamp: time(
        "DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted. This field is set by the server when a graceful deletion is requested by the user.",
      ),
      finalizers: {
        type: "array",
        description:
          "Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list.",
        items: { type: "string", default: "" },
        "x-kubernetes-list-type": "set",
        "x-kubernetes-patch-strategy": "merge",
      },
      generateName: string(
        "GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided.",
      ),
      generation: {
        type: "integer",
        format: "int64",
        description:
          "A sequence number representing a specific generation of the desired state. Populated by the system. Read-only.",
      },
      labels: stringMap(
        "Map of string keys and values that can be used to organize and categorize (scope and select) objects. May match selectors of replication controllers and services.",
      ),
      managedFields: {
        type: "array",
        description:
          "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow. This is mostly for internal housekeeping, and users typically shouldn't need to set or understand this field.",
        items: { ...ref(`${META}.ManagedFieldsEntry`), default: {} },
        "x-kubernetes-list-type": "atomic",
      },
      name: string(
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Cannot be updated.",
      ),
      namespace: string(
        'Namespace defines the space within which each name must be unique. An empty namespace is equivalent to the "default" namespace. Cannot be updated.',
      ),
      ownerReferences: {
        type: "array",
        description:
          "List of objects depended by this object. If ALL objects in the list have been deleted, this object will be garbage collected.",
        items: { ...ref(`${META}.OwnerReference`), default: {} },
        "x-kubernetes-list-map-keys": ["uid"],
        "x-kubernetes-list-type": "map",
        "x-kubernetes-patch-merge-key": "uid",
        "x-kubernetes-patch-strategy": "merge",
      },
      resourceVersion: string(
        "An opaque value that represents the internal version of this object that can be used by clients to determine when objects have changed. Populated by the system. Read-only.",
      ),
      selfLink: string(
        "Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.",
      ),
      uid: string(
        "UID is the unique in time and space value for this object. It is typically generated by the server on successful creation of a resource and is not allowed to change on PUT operations. Populated by the system. Read-only.",
      ),
    },
  },
  [LIST_META]: {
    type: "object",
    description:
      "ListMeta describes metadata that synthetic resources must have, including lists and various status objects.",
    properties: {
      continue: string(
        "continue may be set if the user set a limit on the number of items returned, and indicates that the server has more data available.",
      ),
      remainingItemCount: {
        type: "integer",
        format: "int64",
        description:
          "remainingItemCount is the number of subsequent items in the list which are not included in this list response.",
      },
      resourceVersion: string(
        "String that identifies the server's internal version of this object that can be used by clients to determine when objects have changed.",
      ),
      selfLink: string(
        "Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.",
      ),
    },
  },
  [`${META}.StatusCause`]: {
    type: "object",
    description:
      "StatusCause provides more information about an api.Status failure, including cases when multiple errors are encountered.",
    properties: {
      field: string(
        "The field of the resource that has caused this error, as named by its JSON serialization.",
      ),
      message: string("A human-readable description of the cause of the error."),
      reason: string(
        "A machine-readable description of the cause of the error. If this value is empty there is no information available.",
      ),
    },
  },
  [`${META}.StatusDetails`]: {
    type: "object",
    description:
      "StatusDetails is a set of additional properties that MAY be set by the server to provide additional information about a response.",
    properties: {
      causes: {
        type: "array",
        description: "The Causes array includes more details associated with the StatusReason failure.",
        items: { ...ref(`${META}.StatusCause`), default: {} },
        "x-kubernetes-list-type": "atomic",
      },
      group: string("The group attribute of the resource associated with the status StatusReason."),
      kind: string("The kind attribute of the resource associated with the status StatusReason."),
      name: string(
        "The name attribute of the resource associated with the status StatusReason (when there is a single name which can be described).",
      ),
      retryAfterSeconds: {
        type: "integer",
        format: "int32",
        description: "If specified, the time in seconds before the operation should be retried.",
      },
      uid: string("UID of the resource. (when there is a single resource which can be described)."),
    },
  },
  [STATUS]: {
    type: "object",
    description: "Status is a return value for calls that don't return other objects.",
    properties: {
      apiVersion,
      code: {
        type: "integer",
        format: "int32",
        description: "Suggested HTTP return code for this status, 0 if not set.",
      },
      details: allOf(`${META}.StatusDetails`, "Extended data associated with the reason."),
      kind,
      message: string("A human-readable description of the status of this operation."),
      metadata: allOf(LIST_META, LIST_META_DESCRIPTION, { default: {} }),
      reason: string('A machine-readable description of why this operation is in the "Failure" status.'),
      status: string('Status of the operation. One of: "Success" or "Failure".'),
    },
    "x-kubernetes-group-version-kind": [{ group: "", kind: "Status", version: "v1" }],
  },
  [`${META}.Preconditions`]: {
    type: "object",
    description: "Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.",
    properties: {
      resourceVersion: string("Specifies the target ResourceVersion"),
      uid: string("Specifies the target UID."),
    },
  },
  [DELETE_OPTIONS]: {
    type: "object",
    description: "DeleteOptions may be provided when deleting an API object.",
    properties: {
      apiVersion,
      dryRun: {
        type: "array",
        description: "When present, indicates that modifications should not be persisted.",
        items: { type: "string", default: "" },
        "x-kubernetes-list-type": "atomic",
      },
      gracePeriodSeconds: {
        type: "integer",
        format: "int64",
        description: "The duration in seconds before the object should be deleted.",
      },
      kind,
      orphanDependents: { type: "boolean", description: "Deprecated: please use the PropagationPolicy." },
      preconditions: allOf(`${META}.Preconditions`, "Must be fulfilled before a deletion is carried out."),
      propagationPolicy: string(
        "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'.",
      ),
    },
    "x-kubernetes-group-version-kind": [{ group: "", kind: "DeleteOptions", version: "v1" }],
  },
  [PATCH]: {
    type: "object",
    description: "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
  },
  "io.k8s.apimachinery.pkg.runtime.RawExtension": {
    type: "object",
    description: "RawExtension is used to hold extensions in external versions.",
  },
  [WATCH_EVENT]: {
    type: "object",
    description: "Event represents a single event to a watched resource.",
    required: ["type", "object"],
    properties: {
      object: allOf(
        "io.k8s.apimachinery.pkg.runtime.RawExtension",
        "Object is the object of the event: the whole object for ADDED, MODIFIED and DELETED, a Status for ERROR.",
      ),
      type: string("", { default: "" }),
    },
    "x-kubernetes-group-version-kind": [{ group: "", kind: "WatchEvent", version: "v1" }],
  },
};
