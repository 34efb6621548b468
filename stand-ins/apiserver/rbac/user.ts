// Who a request acts as, shaped as kube's user.Info (k8s.io/apiserver/pkg/authentication/user), and
// the well-known names and service-account username rules (…/authentication/serviceaccount).

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const SYSTEM_PRIVILEGED_GROUP = "system:masters";
export const ALL_AUTHENTICATED = "system:authenticated";
export const ALL_UNAUTHENTICATED = "system:unauthenticated";
export const ANONYMOUS = "system:anonymous";
export const ADMIN_USERNAME = "kubernetes-admin";

const SA_PREFIX = "system:serviceaccount:";

/** The user kube-apiserver makes of a request without credentials (when anonymous auth is on). */
export function anonymousUser(): UserInfo {
  return { username: ANONYMOUS, groups: [ALL_UNAUTHENTICATED] };
}

/** The admin token's user: a client certificate with O=system:masters, as kubeadm writes it. */
export function adminUser(): UserInfo {
  return { username: ADMIN_USERNAME, groups: [SYSTEM_PRIVILEGED_GROUP, ALL_AUTHENTICATED] };
}

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SA_PREFIX}${namespace}:${name}`;
}

/** serviceaccount.MakeGroupNames: every service account is in these two groups. */
export function serviceAccountGroups(namespace: string): string[] {
  return ["system:serviceaccounts", `system:serviceaccounts:${namespace}`];
}

/** A ServiceAccount token's user (the uid is the ServiceAccount's). */
export function serviceAccountUser(namespace: string, name: string, uid?: string): UserInfo {
  return {
    username: serviceAccountUsername(namespace, name),
    ...(uid ? { uid } : {}),
    groups: [...serviceAccountGroups(namespace), ALL_AUTHENTICATED],
  };
}

/** serviceaccount.SplitUsername: namespace and name of `system:serviceaccount:<ns>:<name>`, or undefined. */
export function splitServiceAccountUsername(
  username: string,
): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const parts = username.slice(SA_PREFIX.length).split(":");
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts as [string, string];
  if (!validPathSegment(namespace) || !validPathSegment(name)) return undefined;
  return { namespace, name };
}

function validPathSegment(s: string): boolean {
  return s !== "" && s !== "." && s !== ".." && !s.includes("/") && !s.includes("%");
}

export function isPrivileged(user: UserInfo): boolean {
  return user.groups.includes(SYSTEM_PRIVILEGED_GROUP);
}
