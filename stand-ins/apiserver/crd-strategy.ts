// CustomResourceDefinition strategy: the name rules kube-apiserver checks, the defaults it fills into
// spec.names, and the status (accepted names, Established/NamesAccepted) that apiextensions' controllers
// set. Here it is set in the same write, so a CR can be created right after its CRD.

import { checkStructural } from "./crd-schema.ts";
import type { StatusCause } from "./errors.ts";
import { timestamp } from "./object-meta.ts";
import type { AdditionalPrinterColumn } from "./schema/table.ts";
import type { KubeObject } from "./storage.ts";

/** What kube-apiserver puts on a CRD being deleted until its custom resources are gone. */
export const CRD_CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";

export interface CRDVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: Record<string, unknown> };
  subresources?: { status?: object; scale?: object };
  additionalPrinterColumns?: AdditionalPrinterColumn[];
  selectableFields?: { jsonPath: string }[];
}

export interface CRDNames {
  plural: string;
  singular?: string;
  kind: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
}

export interface CRDSpec {
  group: string;
  scope: "Namespaced" | "Cluster";
  names: CRDNames;
  versions: CRDVersion[];
}

export function crdSpec(o: KubeObject): CRDSpec {
  return o.spec as CRDSpec;
}

export function crdDefaults(o: KubeObject): void {
  const spec = o.spec as Partial<CRDSpec> | undefined;
  if (!spec?.names) return;
  spec.names.singular ??= spec.names.kind?.toLowerCase();
  spec.names.listKind ??= `${spec.names.kind}List`;
  (spec as Record<string, unknown>).conversion ??= { strategy: "None" };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function crdCauses(o: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = o.spec as Partial<CRDSpec> | undefined;
  const req = (field: string) =>
    causes.push({ reason: "FieldValueRequired", message: "Required value", field });
  if (!spec) return [{ reason: "FieldValueRequired", message: "Required value", field: "spec" }];
  if (!spec.group) req("spec.group");
  if (!spec.names?.plural) req("spec.names.plural");
  if (!spec.names?.kind) req("spec.names.kind");
  if (spec.scope !== "Namespaced" && spec.scope !== "Cluster")
    causes.push({
      reason: "FieldValueNotSupported",
      message: `Unsupported value: ${JSON.stringify(spec.scope ?? "")}: supported values: "Cluster", "Namespaced"`,
      field: "spec.scope",
    });
  if (spec.names?.plural && spec.group && o.metadata.name !== `${spec.names.plural}.${spec.group}`) {
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: ${JSON.stringify(o.metadata.name)}: must be spec.names.plural+"."+spec.group`,
      field: "metadata.name",
    });
  }
  for (const [field, value] of [
    ["spec.names.plural", spec.names?.plural],
    ["spec.names.singular", spec.names?.singular],
  ] as const) {
    if (value && !DNS_LABEL.test(value))
      causes.push({
        reason: "FieldValueInvalid",
        message: `Invalid value: ${JSON.stringify(value)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`,
        field,
      });
  }
  const versions = spec.versions ?? [];
  if (versions.length === 0) req("spec.versions");
  const storage = versions.filter((v) => v.storage).length;
  if (versions.length > 0 && storage !== 1)
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: ${JSON.stringify(versions.map((v) => v.name))}: must have exactly one version marked as storage version`,
      field: "spec.versions",
    });
  versions.forEach((v, i) => {
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) {
      req(`spec.versions[${i}].schema.openAPIV3Schema`);
      return;
    }
    for (const c of checkStructural(schema, `spec.versions[${i}].schema.openAPIV3Schema`)) causes.push(c);
  });
  if (old) {
    const before = old.spec as CRDSpec;
    if (before.scope !== spec.scope)
      causes.push({
        reason: "FieldValueInvalid",
        message: `Invalid value: ${JSON.stringify(spec.scope)}: field is immutable`,
        field: "spec.scope",
      });
    if (before.group !== spec.group)
      causes.push({
        reason: "FieldValueInvalid",
        message: `Invalid value: ${JSON.stringify(spec.group)}: field is immutable`,
        field: "spec.group",
      });
  }
  return causes;
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export function crdStatus(
  o: KubeObject,
  old: KubeObject | undefined,
  now: Date = new Date(),
): Record<string, unknown> {
  const spec = o.spec as CRDSpec;
  const oldStatus = (old?.status ?? {}) as { conditions?: Condition[]; storedVersions?: string[] };
  const since = (type: string) =>
    oldStatus.conditions?.find((c) => c.type === type && c.status === "True")?.lastTransitionTime ??
    timestamp(now);
  const storageVersion = spec.versions?.find((v) => v.storage)?.name;
  const stored = new Set(oldStatus.storedVersions ?? []);
  if (storageVersion) stored.add(storageVersion);
  return {
    acceptedNames: {
      plural: spec.names.plural,
      singular: spec.names.singular,
      kind: spec.names.kind,
      listKind: spec.names.listKind,
      ...(spec.names.shortNames ? { shortNames: spec.names.shortNames } : {}),
      ...(spec.names.categories ? { categories: spec.names.categories } : {}),
    },
    conditions: [
      ...(o.metadata.deletionTimestamp
        ? (oldStatus.conditions ?? []).filter((c) => c.type === "Terminating")
        : []),
      {
        type: "NamesAccepted",
        status: "True",
        reason: "NoConflicts",
        message: "no conflicts found",
        lastTransitionTime: since("NamesAccepted"),
      },
      {
        type: "Established",
        status: "True",
        reason: "InitialNamesAccepted",
        message: "the initial names have been accepted",
        lastTransitionTime: since("Established"),
      },
    ],
    storedVersions: [...stored],
  };
}

/** The Terminating condition apiextensions sets while it deletes a CRD's custom resources. */
export function terminatingCondition(now: Date): Condition {
  return {
    type: "Terminating",
    status: "True",
    reason: "InstanceDeletionInProgress",
    message: "CustomResource deletion is in progress",
    lastTransitionTime: timestamp(now),
  };
}
