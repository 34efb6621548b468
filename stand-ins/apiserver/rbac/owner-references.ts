// The OwnerReferencesPermissionEnforcement admission plugin (plugin/pkg/admission/gc): changing an
// existing object's owner references needs `delete` on it, and setting blockOwnerDeletion=true on a
// reference (new, or changed from unset/false) needs `update` on the owner's `finalizers`
// subresource — the owner's kind found through the registry, custom resources included.
// Pod status updates are exempt, as in kube.
import { isDeepStrictEqual } from "node:util";
import type { WriteCheck } from "../objects.ts";
import type { OwnerReference } from "../storage.ts";
import { resourceAttributes } from "./attributes.ts";
import type { Authorizer } from "./authorizer.ts";
import { forbiddenError } from "./forbidden.ts";

export function changesOwnerReferences(
  refs: OwnerReference[] | undefined,
  old: OwnerReference[] | undefined,
  updating: boolean,
): boolean {
  if (!updating) return (refs ?? []).length > 0;
  return !isDeepStrictEqual(refs ?? [], old ?? []);
}

/** References that block their owner's deletion and did not before (by uid). */
export function newBlockingReferences(
  refs: OwnerReference[] | undefined,
  old: OwnerReference[] | undefined,
): OwnerReference[] {
  const before = new Map((old ?? []).map((r) => [r.uid, r]));
  return (refs ?? []).filter(
    (r) => r.blockOwnerDeletion === true && before.get(r.uid)?.blockOwnerDeletion !== true,
  );
}

/** The Go formatting of the plugin's `%v, %v` of an authorizer's reason and (absent) error. */
const reasonAndError = (reason: string) => `${reason}, <nil>`;

export function ownerReferencesPermissionEnforcement(authorizer: Authorizer): WriteCheck {
  return (t, w, objects) => {
    if (t.group === "" && t.resource === "pods" && w.subresource === "status") return;
    const refs = w.object.metadata.ownerReferences;
    const oldRefs = w.old?.metadata.ownerReferences;
    if (!changesOwnerReferences(refs, oldRefs, w.operation === "update")) return;
    const name = w.object.metadata.name || w.object.metadata.generateName || "Unknown";
    const refuse = (why: string) => forbiddenError({ group: t.group, resource: t.resource, name }, why);
    if (w.operation === "update") {
      const decision = authorizer.authorize(
        resourceAttributes(w.user, {
          verb: "delete",
          namespace: w.namespace,
          apiGroup: t.group,
          apiVersion: t.version,
          resource: t.resource,
          subresource: w.subresource,
          name: w.object.metadata.name,
        }),
      );
      if (!decision.allowed)
        throw refuse(
          `cannot set an ownerRef on a resource you can't delete: ${reasonAndError(decision.reason)}`,
        );
    }
    for (const ref of newBlockingReferences(refs, oldRefs)) {
      const owner = objects.registry.byKind(ref.apiVersion, ref.kind);
      if (!owner) {
        throw refuse(
          `cannot set blockOwnerDeletion in this case because cannot find RESTMapping for APIVersion ${ref.apiVersion} Kind ${ref.kind}: no matches for kind ${JSON.stringify(ref.kind)} in version ${JSON.stringify(ref.apiVersion)}`,
        );
      }
      const decision = authorizer.authorize(
        resourceAttributes(w.user, {
          verb: "update",
          apiGroup: owner.group,
          apiVersion: owner.version,
          resource: owner.resource,
          subresource: "finalizers",
          name: ref.name,
          namespace: owner.namespaced ? w.namespace : undefined,
        }),
      );
      if (!decision.allowed)
        throw refuse(
          `cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on: ${reasonAndError(decision.reason)}`,
        );
    }
  };
}
