// kube's impersonation filter (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): the
// Impersonate-User, -Group, -Uid and -Extra-<key> headers make the request act as someone else, each
// authorized first with the `impersonate` verb on users, serviceaccounts, groups, uids or
// userextras/<key>. A service-account username gets that account's groups unless groups are given;
// everyone but system:anonymous gets system:authenticated.
import type { ApiError } from "../errors.ts";
import { type Attributes, resourceAttributes } from "./attributes.ts";
import type { Authorizer } from "./authorizer.ts";
import { denied } from "./forbidden.ts";
import {
  ALL_AUTHENTICATED,
  ALL_UNAUTHENTICATED,
  ANONYMOUS,
  serviceAccountGroups,
  serviceAccountUsername,
  splitServiceAccountUsername,
  type UserInfo,
} from "./user.ts";

interface Reference {
  kind: "ServiceAccount" | "User" | "Group" | "UserExtra" | "UID";
  namespace?: string;
  name: string;
  apiVersion?: string;
  fieldPath?: string;
}

export type Impersonation =
  | { user: UserInfo }
  | { forbidden: ApiError }
  /** kube answers this with a plain-text 500. */
  | { internalError: string };

const EXTRA_PREFIX = "impersonate-extra-";

/** Header values by lower-cased name, repeated headers kept apart (rawHeaders: name, value, …). */
export function headerValues(rawHeaders: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!name.startsWith("impersonate-")) continue;
    const values = out.get(name) ?? [];
    values.push(rawHeaders[i + 1]!);
    out.set(name, values);
  }
  return out;
}

function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/** buildImpersonationRequests: what the headers ask to act as, in kube's order. */
export function impersonationRequests(headers: Map<string, string[]>): Reference[] | string {
  const refs: Reference[] = [];
  const user = headers.get("impersonate-user")?.[0] ?? "";
  if (user) {
    const sa = splitServiceAccountUsername(user);
    refs.push(
      sa ? { kind: "ServiceAccount", namespace: sa.namespace, name: sa.name } : { kind: "User", name: user },
    );
  }
  const groups = headers.get("impersonate-group") ?? [];
  for (const g of groups) refs.push({ kind: "Group", name: g });
  let hasExtra = false;
  for (const [header, values] of headers) {
    if (!header.startsWith(EXTRA_PREFIX)) continue;
    hasExtra = true;
    const key = unescapeExtraKey(header.slice(EXTRA_PREFIX.length));
    for (const v of values)
      refs.push({ kind: "UserExtra", apiVersion: "authentication.k8s.io/v1", name: v, fieldPath: key });
  }
  const uid = headers.get("impersonate-uid")?.[0] ?? "";
  if (uid) refs.push({ kind: "UID", name: uid, apiVersion: "authentication.k8s.io/v1" });
  if ((groups.length > 0 || hasExtra || uid) && !user) {
    // Go's %v of []v1.ObjectReference: Kind Namespace Name UID APIVersion ResourceVersion FieldPath.
    const listed = refs
      .map((r) => `{${r.kind} ${r.namespace ?? ""} ${r.name}  ${r.apiVersion ?? ""}  ${r.fieldPath ?? ""}}`)
      .join(" ");
    return `requested [${listed}] without impersonating a user`;
  }
  return refs;
}

function attributesFor(requestor: UserInfo, r: Reference): Attributes {
  const base = { verb: "impersonate", namespace: r.namespace, name: r.name };
  switch (r.kind) {
    case "ServiceAccount":
      return resourceAttributes(requestor, {
        ...base,
        apiGroup: "",
        apiVersion: "v1",
        resource: "serviceaccounts",
      });
    case "User":
      return resourceAttributes(requestor, { ...base, apiGroup: "", apiVersion: "v1", resource: "users" });
    case "Group":
      return resourceAttributes(requestor, { ...base, apiGroup: "", apiVersion: "v1", resource: "groups" });
    case "UserExtra":
      return resourceAttributes(requestor, {
        ...base,
        apiGroup: "authentication.k8s.io",
        apiVersion: "v1",
        resource: "userextras",
        subresource: r.fieldPath,
      });
    case "UID":
      return resourceAttributes(requestor, {
        ...base,
        apiGroup: "authentication.k8s.io",
        apiVersion: "v1",
        resource: "uids",
      });
  }
}

/** The user a request acts as: `requestor` itself when it asks to impersonate nobody. */
export function impersonate(
  requestor: UserInfo,
  rawHeaders: string[],
  authorizer: Authorizer,
): Impersonation {
  const headers = headerValues(rawHeaders);
  const refs = impersonationRequests(headers);
  if (typeof refs === "string") return { internalError: refs };
  if (refs.length === 0) return { user: requestor };
  const groupsSpecified = (headers.get("impersonate-group") ?? []).length > 0;
  let username = "";
  let uid = "";
  let groups: string[] = [];
  const extra: Record<string, string[]> = {};
  for (const r of refs) {
    switch (r.kind) {
      case "ServiceAccount":
        username = serviceAccountUsername(r.namespace!, r.name);
        if (!groupsSpecified) groups = serviceAccountGroups(r.namespace!);
        break;
      case "User":
        username = r.name;
        break;
      case "Group":
        groups.push(r.name);
        break;
      case "UserExtra":
        extra[r.fieldPath!] = [...(extra[r.fieldPath!] ?? []), r.name];
        break;
      case "UID":
        uid = r.name;
        break;
    }
    const attrs = attributesFor(requestor, r);
    const decision = authorizer.authorize(attrs);
    if (!decision.allowed) return { forbidden: denied(attrs, decision.reason) };
  }
  if (username !== ANONYMOUS) {
    if (!groups.includes(ALL_AUTHENTICATED) && !groups.includes(ALL_UNAUTHENTICATED))
      groups.push(ALL_AUTHENTICATED);
  } else if (!groups.includes(ALL_UNAUTHENTICATED)) groups.push(ALL_UNAUTHENTICATED);
  return {
    user: {
      username,
      groups,
      ...(uid ? { uid } : {}),
      ...(Object.keys(extra).length > 0 ? { extra } : {}),
    },
  };
}
