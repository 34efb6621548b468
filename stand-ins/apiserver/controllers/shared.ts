// Small I/O helpers the workload controllers share: keys, typed reads from the store, and how kube
// recognises a refusal because the namespace is going away.
import { ApiError } from "../errors.ts";
import type { Objects } from "../objects.ts";
import type { ResourceType } from "../registry.ts";
import type { KubeObject, OwnerReference } from "../storage.ts";

export const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;

export function splitKey(key: string): [string, string] {
  const i = key.indexOf("/");
  return [key.slice(0, i), key.slice(i + 1)];
}

export function resourceType(objects: Objects, group: string, resource: string): ResourceType {
  const t = objects.registry.find(group, "v1", resource);
  if (!t) throw new Error(`the server does not serve ${resource}.${group}`);
  return t;
}

/** The live object of `t` by namespace and name, in its served shape. */
export function read<T extends KubeObject>(
  objects: Objects,
  t: ResourceType,
  namespace: string,
  name: string,
): T | undefined {
  const stored = objects.store.collection(t.collection).get(namespace, name);
  return stored && (objects.view(t, stored) as T);
}

/** resolveControllerRef: the owner a controller reference names, if it is still that object. */
export function resolveRef<T extends KubeObject>(
  objects: Objects,
  t: ResourceType,
  namespace: string,
  ref: OwnerReference | undefined,
): T | undefined {
  if (!ref || ref.kind !== t.kind || ref.apiVersion.split("/")[0] !== t.group) return undefined;
  const o = read<T>(objects, t, namespace, ref.name);
  return o?.metadata.uid === ref.uid ? o : undefined;
}

/** apierrors.HasStatusCause(err, NamespaceTerminatingCause). */
export function namespaceTerminating(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    (error.details?.causes ?? []).some((c) => c.reason === "NamespaceTerminating")
  );
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.code === 404;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
