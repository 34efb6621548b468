// How kube names things in its OpenAPI documents: definitions (`dev.kiln.v1alpha1.Build`,
// `io.k8s.api.core.v1.Pod`), group-version paths, and the CRD fields the documents are built from.
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";

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

export type GVK = { group: string; version: string; kind: string };

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
export const groupWord = (group: string) => builtinGroup(group) ?? group;
