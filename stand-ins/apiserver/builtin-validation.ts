// Validation of built-in kinds: the shape against the real Kubernetes OpenAPI schemas (compiled into
// kubernetes-models), plus the handful of semantic rules kube-apiserver enforces that Kiln can trip on.
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1";
import { Deployment, ReplicaSet } from "kubernetes-models/apps/v1";
import { Lease } from "kubernetes-models/coordination.k8s.io/v1";
import { Event as EventsV1Event } from "kubernetes-models/events.k8s.io/v1";
import { Ingress, IngressClass, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from "kubernetes-models/rbac.authorization.k8s.io/v1";
import {
  ConfigMap,
  Event,
  Namespace,
  Node,
  Pod,
  Secret,
  Service,
  ServiceAccount,
} from "kubernetes-models/v1";
import type { StatusCause } from "./errors.ts";
import type { KubeObject, OwnerReference } from "./storage.ts";

type Model = new (data: never) => { validate(): void };

const MODELS: Record<string, Model> = {
  "v1/Pod": Pod as unknown as Model,
  "v1/Secret": Secret as unknown as Model,
  "v1/Node": Node as unknown as Model,
  "v1/Service": Service as unknown as Model,
  "apps/v1/Deployment": Deployment as unknown as Model,
  "apps/v1/ReplicaSet": ReplicaSet as unknown as Model,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget as unknown as Model,
  "networking.k8s.io/v1/Ingress": Ingress as unknown as Model,
  "networking.k8s.io/v1/IngressClass": IngressClass as unknown as Model,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy as unknown as Model,
  "rbac.authorization.k8s.io/v1/Role": Role as unknown as Model,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding as unknown as Model,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole as unknown as Model,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding as unknown as Model,
  "v1/ConfigMap": ConfigMap as unknown as Model,
  "v1/ServiceAccount": ServiceAccount as unknown as Model,
  "v1/Namespace": Namespace as unknown as Model,
  "v1/Event": Event as unknown as Model,
  "events.k8s.io/v1/Event": EventsV1Event as unknown as Model,
  "coordination.k8s.io/v1/Lease": Lease as unknown as Model,
  "apiextensions.k8s.io/v1/CustomResourceDefinition": CustomResourceDefinition as unknown as Model,
};

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** `/spec/containers/0/image` → `spec.containers[0].image`. */
export function fieldPath(pointer: string): string {
  let out = "";
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    out += /^\d+$/.test(part) ? `[${part}]` : out === "" ? part : `.${part}`;
  }
  return out;
}

function valueAt(object: unknown, pointer: string): unknown {
  let v: unknown = object;
  for (const raw of pointer.split("/").slice(1)) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[raw.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return v;
}

function ajvCause(object: unknown, e: AjvError): StatusCause {
  const field = fieldPath(e.instancePath);
  const value = JSON.stringify(valueAt(object, e.instancePath));
  switch (e.keyword) {
    case "required": {
      const missing = String(e.params.missingProperty);
      return {
        reason: "FieldValueRequired",
        message: "Required value",
        field: field ? `${field}.${missing}` : missing,
      };
    }
    case "type":
      return {
        reason: "FieldValueTypeInvalid",
        message: `Invalid value: ${value}: must be of type ${String(e.params.type)}`,
        field,
      };
    case "enum":
      return {
        reason: "FieldValueNotSupported",
        message: `Unsupported value: ${value}: supported values: ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
        field,
      };
    default:
      return {
        reason: "FieldValueInvalid",
        message: `Invalid value: ${value}: ${e.message ?? e.keyword}`,
        field,
      };
  }
}

/** Shape errors from the Kubernetes OpenAPI schema of the object's kind. */
export function schemaCauses(object: KubeObject): StatusCause[] {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!model) return [];
  try {
    new model(object as never).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) throw error;
    // ajv reports the alternatives of an int-or-string or oneOf separately; keep one per field.
    const seen = new Set<string>();
    const causes: StatusCause[] = [];
    for (const e of errors) {
      const cause = ajvCause(object, e);
      const k = `${cause.field}|${cause.reason}`;
      if (seen.has(k)) continue;
      seen.add(k);
      causes.push(cause);
    }
    return causes;
  }
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function dns1123SubdomainErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push("must be no more than 253 characters");
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errs.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return errs;
}

export function dns1123LabelErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push("must be no more than 63 characters");
  if (!DNS1123_LABEL.test(value)) {
    errs.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  return errs;
}

function invalidValue(field: string, value: unknown, detail: string): StatusCause {
  return {
    reason: "FieldValueInvalid",
    message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
    field,
  };
}

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function qualifiedNameErrors(key: string): string[] {
  const parts = key.split("/");
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  const errs: string[] = [];
  if (parts.length > 2)
    errs.push("a qualified name must consist of alphanumeric characters, '-', '_' or '.'");
  if (parts.length === 2 && (parts[0] === "" || dns1123SubdomainErrors(parts[0]!).length > 0))
    errs.push("prefix part must be a lowercase RFC 1123 subdomain");
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name))
    errs.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
  return errs;
}

const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** validation.IsValidLabelValue. */
export function labelValueErrors(value: unknown): string[] {
  const text = String(value);
  const errs: string[] = [];
  if (text.length > 63) errs.push("must be no more than 63 characters");
  if (typeof value !== "string" || !LABEL_VALUE.test(text)) errs.push(LABEL_VALUE_MESSAGE);
  return errs;
}

const TOTAL_ANNOTATION_SIZE = 256 * 1024;

/** apimachinery's ValidateOwnerReferences: every field set, at most one controller. */
function ownerReferenceCauses(refs: OwnerReference[]): StatusCause[] {
  const causes: StatusCause[] = [];
  const field = "metadata.ownerReferences";
  let controller = "";
  for (const ref of refs) {
    const version = (ref.apiVersion ?? "").split("/").at(-1);
    if (!version)
      causes.push(invalidValue(`${field}.apiVersion`, ref.apiVersion ?? "", "version must not be empty"));
    if (!ref.kind) causes.push(invalidValue(`${field}.kind`, ref.kind ?? "", "must not be empty"));
    if (!ref.name) causes.push(invalidValue(`${field}.name`, ref.name ?? "", "must not be empty"));
    if (!ref.uid) causes.push(invalidValue(`${field}.uid`, ref.uid ?? "", "must not be empty"));
    if (ref.controller) {
      const current = `${ref.kind}/${ref.name}`;
      if (controller)
        causes.push(
          invalidValue(
            field,
            refs,
            `Only one reference can have Controller set to true. Found "true" in references for ${controller} and ${current}`,
          ),
        );
      else controller = current;
    }
  }
  return causes;
}

/** Object metadata rules shared by every kind: the name, labels, annotations, owner references, finalizers. */
export function metadataCauses(object: KubeObject, nameRule: "subdomain" | "label" | "none"): StatusCause[] {
  const causes: StatusCause[] = [];
  const m = object.metadata;
  if (m.name && nameRule !== "none") {
    const errs = nameRule === "label" ? dns1123LabelErrors(m.name) : dns1123SubdomainErrors(m.name);
    for (const e of errs) causes.push(invalidValue("metadata.name", m.name, e));
  }
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    for (const e of qualifiedNameErrors(k)) causes.push(invalidValue("metadata.labels", k, e));
    if (typeof v !== "string" || v.length > 63 || !LABEL_VALUE.test(v)) {
      causes.push(invalidValue("metadata.labels", v, LABEL_VALUE_MESSAGE));
    }
  }
  let annotationBytes = 0;
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    for (const e of qualifiedNameErrors(k.toLowerCase()))
      causes.push(invalidValue("metadata.annotations", k, e));
    annotationBytes += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  if (annotationBytes > TOTAL_ANNOTATION_SIZE) {
    causes.push({
      reason: "FieldValueTooLong",
      message: `Too long: may not be more than ${TOTAL_ANNOTATION_SIZE} bytes`,
      field: "metadata.annotations",
    });
  }
  causes.push(...ownerReferenceCauses(m.ownerReferences ?? []));
  const finalizers = m.finalizers ?? [];
  for (const f of finalizers)
    for (const e of qualifiedNameErrors(f)) causes.push(invalidValue("metadata.finalizers", f, e));
  if (finalizers.includes("orphan") && finalizers.includes("foregroundDeletion")) {
    causes.push(
      invalidValue(
        "metadata.finalizers",
        finalizers,
        "finalizer orphan and foregroundDeletion cannot be both set",
      ),
    );
  }
  return causes;
}
