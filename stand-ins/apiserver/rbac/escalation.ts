// Privilege-escalation prevention on RBAC writes, as kube's policy-based RBAC storage does it
// (pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased, escalation_check.go):
// a Role or ClusterRole may only grant what its writer holds (in that namespace) unless they may
// `escalate` it; a binding needs `bind` on the role it references or all of that role's permissions.
// system:masters skips both; a write that only touches owner references or finalizers is never checked.
import { isDeepStrictEqual } from "node:util";
import { ApiError, internal } from "../errors.ts";
import { plain } from "../object-meta.ts";
import type { WriteCheck, WriteRequest } from "../objects.ts";
import type { ResourceType } from "../registry.ts";
import type { KubeObject } from "../storage.ts";
import { resourceAttributes } from "./attributes.ts";
import type { Authorizer } from "./authorizer.ts";
import { compactRules, compactString, covers, goQuote, goQuoteList } from "./covers.ts";
import { forbiddenError } from "./forbidden.ts";
import { aggregateText, registryErrorText } from "./resolver.ts";
import type { PolicyRule } from "./rules.ts";
import { type BindingObject, RBAC_GROUP, type RoleObject } from "./types.ts";
import { isPrivileged, type UserInfo } from "./user.ts";

/** rbacregistry.IsOnlyMutatingGCFields: nothing but owner references, finalizers and deletion changed. */
export function onlyGCFieldsChange(o: KubeObject, old: KubeObject | undefined): boolean {
  if (!old) return false;
  const copy = plain(o);
  const m = copy.metadata;
  const om = old.metadata;
  for (const k of [
    "ownerReferences",
    "finalizers",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
  ]) {
    if (om[k] === undefined) delete m[k];
    else m[k] = plain(om[k]);
  }
  return isDeepStrictEqual(copy, plain(old));
}

/** ConfirmNoEscalation's refusal, or undefined when `user` holds every rule in `namespace`. */
export function escalationRefusal(
  authorizer: Authorizer,
  user: UserInfo,
  namespace: string,
  rules: PolicyRule[],
): string | undefined {
  const held = authorizer.resolver.rulesFor(user, namespace);
  const { covered, missing } = covers(held.rules, rules);
  if (covered) return undefined;
  const described = [...new Set(compactRules(missing).map(compactString))].sort();
  let message = `user ${goQuote(user.username)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${described.join("\n")}`;
  if (held.errors.length > 0)
    message += `; resolution errors: [${aggregateText(held.errors.map(registryErrorText))}]`;
  return message;
}

function isRole(t: ResourceType): boolean {
  return t.group === RBAC_GROUP && (t.resource === "roles" || t.resource === "clusterroles");
}

function isBinding(t: ResourceType): boolean {
  return t.group === RBAC_GROUP && (t.resource === "rolebindings" || t.resource === "clusterrolebindings");
}

export function rbacEscalationCheck(authorizer: Authorizer): WriteCheck {
  const allowed = (user: UserInfo, verb: string, resource: string, name: string | undefined, ns: string) =>
    authorizer.authorize(
      resourceAttributes(user, {
        verb,
        apiGroup: RBAC_GROUP,
        apiVersion: "*",
        resource,
        name,
        namespace: ns || undefined,
      }),
    ).allowed;

  const checkRole = (t: ResourceType, w: WriteRequest) => {
    const namespace = w.namespace ?? "";
    // RoleEscalationAuthorized looks at the request: a create's URL names no object.
    const urlName = w.operation === "update" ? w.object.metadata.name : undefined;
    if (allowed(w.user, "escalate", t.resource, urlName, namespace)) return;
    if (w.operation === "update" && onlyGCFieldsChange(w.object, w.old)) return;
    const rules = (w.object as RoleObject).rules ?? [];
    const refusal = escalationRefusal(authorizer, w.user, namespace, rules);
    if (refusal)
      throw forbiddenError({ group: t.group, resource: t.resource, name: w.object.metadata.name }, refusal);
  };

  const checkBinding = (t: ResourceType, w: WriteRequest) => {
    const namespace = w.namespace ?? "";
    if (w.operation === "update" && onlyGCFieldsChange(w.object, w.old)) return;
    const ref = (w.object as BindingObject).roleRef ?? { apiGroup: "", kind: "", name: "" };
    const roleResource =
      ref.kind === "ClusterRole" ? "clusterroles" : ref.kind === "Role" ? "roles" : undefined;
    if (
      roleResource &&
      authorizer.authorize(
        resourceAttributes(w.user, {
          verb: "bind",
          apiGroup: ref.apiGroup,
          resource: roleResource,
          name: ref.name,
          namespace: namespace || undefined,
        }),
      ).allowed
    )
      return;
    const rules = authorizer.resolver.roleRules(ref, namespace);
    if (!Array.isArray(rules)) {
      if (rules.reason === "UnsupportedKind") throw internal(registryErrorText(rules));
      throw new ApiError(404, "NotFound", registryErrorText(rules), {
        name: rules.name,
        group: RBAC_GROUP,
        kind: `${rules.kind.toLowerCase()}s`,
      });
    }
    const refusal = escalationRefusal(authorizer, w.user, namespace, rules);
    if (refusal)
      throw forbiddenError({ group: t.group, resource: t.resource, name: w.object.metadata.name }, refusal);
  };

  return (t, w) => {
    if (w.subresource || isPrivileged(w.user)) return;
    if (isRole(t)) checkRole(t, w);
    else if (isBinding(t)) checkBinding(t, w);
  };
}
