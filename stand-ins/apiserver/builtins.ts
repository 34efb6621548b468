// The built-in resources the test server serves, each with its kube-apiserver strategy: defaults,
// system-set fields, validation and selectable fields.
import { isDeepStrictEqual } from "node:util";
import { deploymentCauses, deploymentDefaults, emptyDeploymentStatus } from "./apps.ts";
import { metadataCauses, schemaCauses } from "./builtin-validation.ts";
import { CRD_CLEANUP_FINALIZER, crdCauses, crdDefaults, crdStatus } from "./crd-strategy.ts";
import type { StatusCause } from "./errors.ts";
import { eventFromStorage, eventToStorage } from "./event-conversion.ts";
import { pruneUnknownFields } from "./known-fields.ts";
import { podDefaults, qosClass } from "./pod-defaults.ts";
import { podCauses, podStatusUpdateCauses, podUpdateCauses } from "./pod-validation.ts";
import { rbacCauses, rbacDefaults } from "./rbac/validation.ts";
import type { ResourceType } from "./registry.ts";
import { clusterIPUpdateCauses, keepAllocatedServiceFields } from "./service-ips.ts";
import type { KubeObject } from "./storage.ts";
import { serviceCauses, serviceDefaults } from "./workloads.ts";

type Obj = Record<string, unknown>;

const meta = {
  "metadata.name": (o: KubeObject) => o.metadata.name,
  "metadata.namespace": (o: KubeObject) => o.metadata.namespace,
};

function str(o: unknown, ...path: string[]): string | undefined {
  let v = o;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Obj)[p];
  }
  return v === undefined || v === null ? undefined : String(v);
}

export interface BuiltinSpec {
  group: string;
  version: string;
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  subresources?: string[];
  statusSubresource?: boolean;
  hasGeneration?: boolean;
  allowCreateOnUpdate?: boolean;
  allowUnconditionalUpdate?: boolean;
  model: string;
  nameRule?: "subdomain" | "label" | "none";
  fields?: ResourceType["selectableFields"];
  collection?: string;
  validate?: (o: KubeObject, old: KubeObject | undefined) => StatusCause[];
  defaults?: (o: KubeObject) => void;
  prepareCreate?: ResourceType["prepareCreate"];
  prepareUpdate?: ResourceType["prepareUpdate"];
  fromStorage?: ResourceType["fromStorage"];
  toStorage?: ResourceType["toStorage"];
}

export function builtin(s: BuiltinSpec): ResourceType {
  return {
    group: s.group,
    version: s.version,
    resource: s.resource,
    kind: s.kind,
    listKind: `${s.kind}List`,
    singular: s.singular,
    namespaced: s.namespaced,
    shortNames: s.shortNames ?? [],
    categories: s.categories ?? [],
    subresources: s.subresources ?? [],
    collection: s.collection ?? `${s.group}/${s.resource}`,
    statusSubresource: s.statusSubresource ?? false,
    hasGeneration: s.hasGeneration ?? false,
    allowCreateOnUpdate: s.allowCreateOnUpdate ?? false,
    allowUnconditionalUpdate: s.allowUnconditionalUpdate ?? true,
    strategicMerge: true,
    selectableFields: { ...meta, ...s.fields },
    prune: (o) => pruneUnknownFields(o, s.model),
    defaults: s.defaults ?? (() => {}),
    validate: (o, old) => [
      ...metadataCauses(o, s.nameRule ?? "subdomain"),
      ...schemaCauses(o),
      ...(s.validate?.(o, old) ?? []),
    ],
    prepareCreate: s.prepareCreate,
    prepareUpdate: s.prepareUpdate,
    fromStorage: s.fromStorage,
    toStorage: s.toStorage,
    storageVersion: true,
  };
}

function immutableData(o: KubeObject, old: KubeObject | undefined, fields: string[]): StatusCause[] {
  if (old?.immutable !== true) return [];
  const causes: StatusCause[] = [];
  if (o.immutable !== true)
    causes.push({
      reason: "FieldValueForbidden",
      message: "Forbidden: field is immutable when `immutable` is set",
      field: "immutable",
    });
  for (const f of fields) {
    if (!isDeepStrictEqual(o[f] ?? {}, old[f] ?? {}))
      causes.push({
        reason: "FieldValueForbidden",
        message: "Forbidden: field is immutable when `immutable` is set",
        field: f,
      });
  }
  return causes;
}

const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

function dataKeyCauses(o: KubeObject, fields: string[]): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const f of fields) {
    for (const k of Object.keys((o[f] as Obj | undefined) ?? {})) {
      if (!DATA_KEY.test(k) || k.length > 253)
        causes.push({
          reason: "FieldValueInvalid",
          message: `Invalid value: ${JSON.stringify(k)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
          field: `${f}[${k}]`,
        });
    }
  }
  return causes;
}

/** Secrets take `stringData` as a write-only convenience merged into base64 `data`. */
function mergeStringData(o: KubeObject): void {
  const stringData = o.stringData as Record<string, string> | undefined;
  if (stringData) {
    const data = ((o.data as Record<string, string> | undefined) ?? {}) as Record<string, string>;
    for (const [k, v] of Object.entries(stringData))
      data[k] = Buffer.from(String(v), "utf8").toString("base64");
    o.data = data;
    delete o.stringData;
  }
}

export function builtinTypes(): ResourceType[] {
  return [
    builtin({
      group: "",
      version: "v1",
      resource: "namespaces",
      kind: "Namespace",
      singular: "namespace",
      namespaced: false,
      shortNames: ["ns"],
      subresources: ["status", "finalize"],
      statusSubresource: true,
      model: "V1Namespace",
      nameRule: "label",
      fields: { "status.phase": (o) => str(o, "status", "phase") },
      defaults: (o) => {
        o.metadata.labels = { ...o.metadata.labels, "kubernetes.io/metadata.name": o.metadata.name! };
      },
      prepareCreate: (o) => {
        o.spec = { finalizers: ["kubernetes"] };
        o.status = { phase: "Active" };
      },
      prepareUpdate: (o, old) => {
        o.spec = old.spec;
      },
    }),
    builtin({
      group: "",
      version: "v1",
      resource: "pods",
      kind: "Pod",
      singular: "pod",
      namespaced: true,
      shortNames: ["po"],
      categories: ["all"],
      subresources: ["status", "log", "eviction", "binding", "exec"],
      statusSubresource: true,
      hasGeneration: true,
      model: "V1Pod",
      fields: {
        "spec.nodeName": (o) => str(o, "spec", "nodeName") ?? "",
        "spec.restartPolicy": (o) => str(o, "spec", "restartPolicy"),
        "spec.schedulerName": (o) => str(o, "spec", "schedulerName"),
        "spec.serviceAccountName": (o) => str(o, "spec", "serviceAccountName"),
        "spec.hostNetwork": (o) => String(Boolean((o.spec as Obj | undefined)?.hostNetwork)),
        "status.phase": (o) => str(o, "status", "phase"),
        "status.podIP": (o) => str(o, "status", "podIP") ?? "",
        "status.nominatedNodeName": (o) => str(o, "status", "nominatedNodeName") ?? "",
      },
      defaults: podDefaults,
      validate: (o, old) => [
        ...podCauses(o),
        ...(old ? [...podUpdateCauses(o, old), ...podStatusUpdateCauses(o, old)] : []),
      ],
      prepareCreate: (o) => {
        o.status = { phase: "Pending", qosClass: qosClass(o) };
      },
    }),
    builtin({
      group: "",
      version: "v1",
      resource: "nodes",
      kind: "Node",
      singular: "node",
      namespaced: false,
      shortNames: ["no"],
      subresources: ["status"],
      statusSubresource: true,
      model: "V1Node",
      fields: { "spec.unschedulable": (o) => String(Boolean((o.spec as Obj | undefined)?.unschedulable)) },
    }),
    builtin({
      group: "",
      version: "v1",
      resource: "secrets",
      kind: "Secret",
      singular: "secret",
      namespaced: true,
      model: "V1Secret",
      fields: { type: (o) => str(o, "type") },
      defaults: (o) => {
        o.type ??= "Opaque";
      },
      validate: (o, old) => [
        ...dataKeyCauses(o, ["data"]),
        ...immutableData(o, old, ["data"]),
        ...(old && old.type !== o.type
          ? [
              {
                reason: "FieldValueInvalid",
                message: `Invalid value: ${JSON.stringify(o.type)}: field is immutable`,
                field: "type",
              },
            ]
          : []),
      ],
      prepareCreate: mergeStringData,
      prepareUpdate: mergeStringData,
    }),
    builtin({
      group: "",
      version: "v1",
      resource: "configmaps",
      kind: "ConfigMap",
      singular: "configmap",
      namespaced: true,
      shortNames: ["cm"],
      model: "V1ConfigMap",
      validate: (o, old) => [
        ...dataKeyCauses(o, ["data", "binaryData"]),
        ...immutableData(o, old, ["data", "binaryData"]),
      ],
    }),
    // Stored and checked against their schema, never bound: there is no volume controller or StorageClass,
    // and the process kubelet mounts no claims (the local overlay gives the store an emptyDir instead).
    builtin({
      group: "",
      version: "v1",
      resource: "persistentvolumeclaims",
      kind: "PersistentVolumeClaim",
      singular: "persistentvolumeclaim",
      namespaced: true,
      shortNames: ["pvc"],
      subresources: ["status"],
      model: "V1PersistentVolumeClaim",
    }),
    builtin({
      group: "",
      version: "v1",
      resource: "serviceaccounts",
      kind: "ServiceAccount",
      singular: "serviceaccount",
      namespaced: true,
      shortNames: ["sa"],
      subresources: ["token"],
      model: "V1ServiceAccount",
    }),
    builtin({
      group: "",
      version: "v1",
      resource: "events",
      kind: "Event",
      singular: "event",
      namespaced: true,
      shortNames: ["ev"],
      allowCreateOnUpdate: true,
      model: "CoreV1Event",
      nameRule: "none",
      collection: "events",
      fields: {
        type: (o) => str(o, "type"),
        reason: (o) => str(o, "reason"),
        source: (o) => str(o, "source", "component"),
        reportingComponent: (o) => str(o, "reportingComponent"),
        "involvedObject.kind": (o) => str(o, "involvedObject", "kind"),
        "involvedObject.namespace": (o) => str(o, "involvedObject", "namespace"),
        "involvedObject.name": (o) => str(o, "involvedObject", "name"),
        "involvedObject.uid": (o) => str(o, "involvedObject", "uid"),
        "involvedObject.apiVersion": (o) => str(o, "involvedObject", "apiVersion"),
        "involvedObject.resourceVersion": (o) => str(o, "involvedObject", "resourceVersion"),
        "involvedObject.fieldPath": (o) => str(o, "involvedObject", "fieldPath"),
      },
    }),
    builtin({
      group: "events.k8s.io",
      version: "v1",
      resource: "events",
      kind: "Event",
      singular: "event",
      namespaced: true,
      shortNames: ["ev"],
      allowCreateOnUpdate: true,
      model: "EventsV1Event",
      nameRule: "none",
      collection: "events",
      fields: {
        type: (o) => str(o, "type"),
        reason: (o) => str(o, "reason"),
        reportingController: (o) => str(o, "reportingController"),
        "regarding.kind": (o) => str(o, "regarding", "kind"),
        "regarding.namespace": (o) => str(o, "regarding", "namespace"),
        "regarding.name": (o) => str(o, "regarding", "name"),
        "regarding.uid": (o) => str(o, "regarding", "uid"),
        "regarding.apiVersion": (o) => str(o, "regarding", "apiVersion"),
        "regarding.resourceVersion": (o) => str(o, "regarding", "resourceVersion"),
        "regarding.fieldPath": (o) => str(o, "regarding", "fieldPath"),
      },
      fromStorage: eventFromStorage,
      toStorage: eventToStorage,
    }),
    builtin({
      group: "",
      version: "v1",
      resource: "services",
      kind: "Service",
      singular: "service",
      namespaced: true,
      shortNames: ["svc"],
      categories: ["all"],
      subresources: ["status"],
      statusSubresource: true,
      model: "V1Service",
      nameRule: "label",
      defaults: serviceDefaults,
      validate: (o, old) => [...serviceCauses(o), ...clusterIPUpdateCauses(o, old)],
      prepareUpdate: keepAllocatedServiceFields,
    }),
    builtin({
      group: "apps",
      version: "v1",
      resource: "deployments",
      kind: "Deployment",
      singular: "deployment",
      namespaced: true,
      shortNames: ["deploy"],
      categories: ["all"],
      subresources: ["status", "scale"],
      statusSubresource: true,
      hasGeneration: true,
      model: "V1Deployment",
      defaults: deploymentDefaults,
      validate: deploymentCauses,
      prepareCreate: emptyDeploymentStatus,
    }),
    ...(["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"] as const).map((kind) =>
      builtin({
        group: "rbac.authorization.k8s.io",
        version: "v1",
        resource: `${kind.toLowerCase()}s`,
        kind,
        singular: kind.toLowerCase(),
        namespaced: !kind.startsWith("Cluster"),
        model: `V1${kind}`,
        nameRule: "none",
        validate: rbacCauses(kind),
        defaults: rbacDefaults(kind),
      }),
    ),
    builtin({
      group: "coordination.k8s.io",
      version: "v1",
      resource: "leases",
      kind: "Lease",
      singular: "lease",
      namespaced: true,
      model: "V1Lease",
    }),
    {
      ...builtin({
        group: "apiextensions.k8s.io",
        version: "v1",
        resource: "customresourcedefinitions",
        kind: "CustomResourceDefinition",
        singular: "customresourcedefinition",
        namespaced: false,
        shortNames: ["crd", "crds"],
        categories: ["api-extensions"],
        subresources: ["status"],
        statusSubresource: true,
        hasGeneration: true,
        allowUnconditionalUpdate: false,
        model: "V1CustomResourceDefinition",
        validate: (o, old) => crdCauses(o, old),
        defaults: crdDefaults,
        prepareCreate: (o) => {
          o.status = crdStatus(o, undefined);
        },
        prepareUpdate: (o, old) => {
          o.status = crdStatus(o, old);
        },
      }),
      deleteFinalizers: [CRD_CLEANUP_FINALIZER],
    },
  ];
}
