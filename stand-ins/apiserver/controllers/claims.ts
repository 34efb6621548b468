// Controller references as kube's ControllerRefManager claims objects: a controller keeps what it owns
// and still selects, releases what it owns but no longer selects, and adopts matching orphans.
import type { KubeObject, OwnerReference } from "../storage.ts";

export type Claim = "owned" | "adopt" | "release" | "ignore";

export interface Claimant {
  uid: string;
  namespace?: string;
  deleting: boolean;
}

export function controllerRef(o: KubeObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** BaseControllerRefManager.ClaimObject's decision for one object. */
export function claim(owner: Claimant, o: KubeObject, selected: boolean): Claim {
  const ref = controllerRef(o);
  if (ref) {
    if (ref.uid !== owner.uid) return "ignore";
    if (selected) return "owned";
    return owner.deleting ? "ignore" : "release";
  }
  if (owner.deleting || !selected || o.metadata.deletionTimestamp) return "ignore";
  if (owner.namespace && owner.namespace !== o.metadata.namespace) return "ignore";
  return "adopt";
}

export function newControllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion!,
    kind: owner.kind!,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The adoption patch's result: the controller reference merged in by uid. */
export function withControllerRef(o: KubeObject, ref: OwnerReference): KubeObject {
  const refs = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
  return { ...o, metadata: { ...o.metadata, ownerReferences: [...refs, ref] } };
}

/** The release patch's result: the reference to `uid` deleted. */
export function withoutOwner(o: KubeObject, uid: string): KubeObject {
  const refs = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
  return { ...o, metadata: { ...o.metadata, ownerReferences: refs.length > 0 ? refs : undefined } };
}
