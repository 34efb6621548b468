// Where a pod's metadata and spec sit in each kind Pod Security looks at (the library's
// DefaultPodSpecExtractor): the pod itself, or the pod template of a workload resource.
import type { KubeObject } from "../storage.ts";
import type { PodMetadata, PodSpec } from "./pod-spec.ts";

type Obj = Record<string, unknown>;

interface Template {
  metadata?: PodMetadata;
  spec?: PodSpec;
}

const TEMPLATE_PATHS: Record<string, string[]> = {
  "/podtemplates": ["template"],
  "/replicationcontrollers": ["spec", "template"],
  "apps/replicasets": ["spec", "template"],
  "apps/deployments": ["spec", "template"],
  "apps/statefulsets": ["spec", "template"],
  "apps/daemonsets": ["spec", "template"],
  "batch/jobs": ["spec", "template"],
  "batch/cronjobs": ["spec", "jobTemplate", "spec", "template"],
};

const key = (group: string, resource: string) => `${group}/${resource}`;

/** Pods, or a kind that carries a pod template (any version of its group). */
export function hasPodSpec(group: string, resource: string): boolean {
  return key(group, resource) === "/pods" || Object.hasOwn(TEMPLATE_PATHS, key(group, resource));
}

function at(o: unknown, path: string[]): unknown {
  let v = o;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Obj)[p];
  }
  return v;
}

/**
 * The pod metadata and spec to evaluate; undefined when the object has no template (only a
 * ReplicationController's is optional: Go's value types give the others an empty one).
 */
export function extractPodSpec(
  group: string,
  resource: string,
  o: KubeObject,
): { metadata: PodMetadata; spec: PodSpec } | undefined {
  if (key(group, resource) === "/pods") return { metadata: o.metadata, spec: (o.spec ?? {}) as PodSpec };
  const path = TEMPLATE_PATHS[key(group, resource)];
  if (!path) return undefined;
  const template = at(o, path) as Template | null | undefined;
  if (template == null && resource === "replicationcontrollers") return undefined;
  return { metadata: template?.metadata ?? {}, spec: template?.spec ?? {} };
}
