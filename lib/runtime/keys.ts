// Work-queue keys: "namespace/name", as client-go's MetaNamespaceKeyFunc.
export interface ObjectKey {
  namespace: string;
  name: string;
}

export interface ObjectLike {
  metadata?: {
    name?: string;
    namespace?: string;
    ownerReferences?: ReadonlyArray<{
      apiVersion?: string;
      kind?: string;
      name?: string;
      controller?: boolean;
    }>;
  };
}

export function keyString(key: ObjectKey): string {
  return `${key.namespace}/${key.name}`;
}

export function parseKey(key: string): ObjectKey {
  const slash = key.indexOf("/");
  if (slash < 0) return { namespace: "", name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function keyOf(obj: ObjectLike): ObjectKey | undefined {
  const name = obj.metadata?.name;
  if (!name) return undefined;
  return { namespace: obj.metadata?.namespace ?? "", name };
}

/** The key of the object's controlling owner of the given kind, as sample-controller's handleObject. */
export function controllerOwnerKey(obj: ObjectLike, apiVersion: string, kind: string): ObjectKey | undefined {
  const owner = obj.metadata?.ownerReferences?.find(
    (ref) => ref.controller === true && ref.kind === kind && ref.apiVersion === apiVersion,
  );
  if (!owner?.name) return undefined;
  return { namespace: obj.metadata?.namespace ?? "", name: owner.name };
}
