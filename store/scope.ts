// Who a request's token is, and what it may do. Pure: kube-auth.ts makes the TokenReview, reads the Pod and
// the Build, makes the SubjectAccessReview, and caches the answers.
//
// No shared key: a build pod's agent presents a projected ServiceAccount token of the namespace's
// `kiln-build` account, audience `kiln-store`, bound to its pod (the kubelet mints and rotates it; user code
// in the build container never gets it). A TokenReview says whose it is and which pod it is bound to; the
// pod names its Build (label and controller reference, checked against the Build's uid), and the Build
// says its repository, its branch and whether it comes from a fork. That is the build scope: append its
// own logs, read them, restore its repository's caches, and save them under its own branch — unless it is
// a fork's. Any other token that TokenReview accepts is a reader: it may read a Build's logs when the
// Kubernetes API says it may `get` `builds/log` of that Build (a SubjectAccessReview), as `kubectl logs`
// needs `pods/log`.
import { API_VERSION, GROUP, LABELS, RESOURCES } from "../api/group.ts";

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** A TokenReview's status, as the API server answers it. */
export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
  error?: string;
}

export interface ScopeSettings {
  /** The audience build pods' tokens carry (kiln-store). */
  audience: string;
  /** Further audiences accepted for reading logs (say the API server's, so kubeconfig tokens work). */
  readAudiences: readonly string[];
  /** The agent's ServiceAccount in build namespaces (kiln-build). */
  agentServiceAccount: string;
}

export interface Refusal {
  status: 401 | 403;
  message: string;
}

export interface AgentIdentity {
  kind: "agent";
  namespace: string;
  pod: { name: string; uid: string };
}

export interface ReaderIdentity {
  kind: "reader";
  user: UserInfo;
}

export type Identity = AgentIdentity | ReaderIdentity;

export interface BuildScope {
  kind: "build";
  namespace: string;
  build: string;
  repository: string;
  /** The branch its caches are saved under; none for a tag's build (which then saves none). */
  branch?: string;
  fork: boolean;
}

export type Scope = BuildScope | ReaderIdentity;

export const isRefusal = (x: object): x is Refusal => "status" in x && "message" in x;

/** The audiences a TokenReview is asked for: a token valid for none of them is not authenticated. */
export function reviewAudiences(s: ScopeSettings): string[] {
  return [...new Set([s.audience, ...s.readAudiences])];
}

const SERVICE_ACCOUNT = /^system:serviceaccount:([^:]+):([^:]+)$/;
const POD_NAME = "authentication.kubernetes.io/pod-name";
const POD_UID = "authentication.kubernetes.io/pod-uid";

/** Who a reviewed token is: a build pod's agent, a reader, or nobody the store serves. */
export function identify(
  status: TokenReviewStatus,
  claimed: readonly string[] | undefined,
  s: ScopeSettings,
): Identity | Refusal {
  if (status.authenticated !== true || !status.user?.username) {
    return { status: 401, message: "the token is not valid (expired, revoked, or not a Kubernetes token)" };
  }
  const audiences = (status.audiences ?? []).filter((a) => claimed === undefined || claimed.includes(a));
  const user: UserInfo = {
    username: status.user.username,
    ...(status.user.uid ? { uid: status.user.uid } : {}),
    groups: status.user.groups ?? [],
    extra: status.user.extra ?? {},
  };
  const sa = SERVICE_ACCOUNT.exec(user.username);
  if (sa && sa[2] === s.agentServiceAccount) {
    if (!audiences.includes(s.audience)) {
      return { status: 401, message: `a build pod's token must have the audience ${s.audience}` };
    }
    const name = user.extra[POD_NAME]?.[0];
    const uid = user.extra[POD_UID]?.[0];
    if (!name || !uid) {
      return { status: 403, message: "a build agent's token must be bound to its build pod" };
    }
    return { kind: "agent", namespace: sa[1]!, pod: { name, uid } };
  }
  if (!audiences.some((a) => reviewAudiences(s).includes(a))) {
    return {
      status: 401,
      message: `the token is for none of the audiences ${reviewAudiences(s).join(", ")}`,
    };
  }
  return { kind: "reader", user };
}

interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  ownerReferences?: Array<{
    apiVersion?: string;
    kind?: string;
    name?: string;
    uid?: string;
    controller?: boolean;
  }>;
}
export interface PodFacts {
  metadata?: ObjectMeta;
  spec?: { serviceAccountName?: string };
}
export interface BuildFacts {
  metadata?: ObjectMeta;
  spec?: {
    repository?: string;
    revision?: { branch?: string };
    trigger?: { pullRequest?: { fork?: boolean } };
  };
}

/** The Build a build pod's agent acts for, from its pod and that Build; a refusal when they do not agree. */
export function buildScope(
  agent: AgentIdentity,
  pod: PodFacts | undefined,
  build: BuildFacts | undefined,
  s: ScopeSettings,
): BuildScope | Refusal {
  const where = `${agent.namespace}/${agent.pod.name}`;
  if (!pod || pod.metadata?.uid !== agent.pod.uid) {
    return { status: 401, message: `the pod ${where} the token is bound to is gone` };
  }
  if (pod.spec?.serviceAccountName !== s.agentServiceAccount) {
    return { status: 403, message: `the pod ${where} does not run as ${s.agentServiceAccount}` };
  }
  const name = pod.metadata?.labels?.[LABELS.build];
  const owner = pod.metadata?.ownerReferences?.find(
    (o) => o.controller === true && o.kind === RESOURCES.Build.kind && o.apiVersion === API_VERSION,
  );
  if (!name || owner?.name !== name) {
    return { status: 403, message: `the pod ${where} is not a build pod (no Build owns it)` };
  }
  if (!build || build.metadata?.uid !== owner.uid || !build.spec?.repository) {
    return { status: 403, message: `the Build ${agent.namespace}/${name} of the pod ${where} is gone` };
  }
  const branch = build.spec.revision?.branch;
  return {
    kind: "build",
    namespace: agent.namespace,
    build: name,
    repository: build.spec.repository,
    ...(branch ? { branch } : {}),
    fork: build.spec.trigger?.pullRequest?.fork === true,
  };
}

export type Operation =
  | { action: "append-log"; namespace: string; build: string }
  | { action: "read-log"; namespace: string; build: string }
  | { action: "restore-cache"; namespace: string; repository: string }
  | { action: "save-cache"; namespace: string; repository: string };

/** What a SubjectAccessReview asks: may this user get builds/log of this Build? */
export interface ResourceAttributes {
  namespace: string;
  verb: string;
  group: string;
  resource: string;
  subresource: string;
  name: string;
}

export type Permission =
  | { allowed: true }
  | { allowed: false; message: string }
  | { review: ResourceAttributes };

/** Whether a scope may do an operation, or which access review decides it. */
export function permit(scope: Scope, op: Operation): Permission {
  if (scope.kind === "reader") {
    if (op.action !== "read-log") {
      return { allowed: false, message: "only build pods append logs and use caches" };
    }
    return {
      review: {
        namespace: op.namespace,
        verb: "get",
        group: GROUP,
        resource: RESOURCES.Build.plural,
        subresource: "log",
        name: op.build,
      },
    };
  }
  const own = `the token is for the Build ${scope.namespace}/${scope.build}`;
  switch (op.action) {
    case "append-log":
    case "read-log":
      return op.namespace === scope.namespace && op.build === scope.build
        ? { allowed: true }
        : { allowed: false, message: `${own}, not ${op.namespace}/${op.build}` };
    case "restore-cache":
    case "save-cache": {
      if (op.namespace !== scope.namespace || op.repository !== scope.repository) {
        return {
          allowed: false,
          message: `${own} of the Repository ${scope.repository}, not ${op.namespace}/${op.repository}`,
        };
      }
      if (op.action === "restore-cache") return { allowed: true };
      if (scope.fork) return { allowed: false, message: "builds of forks read caches and never write them" };
      if (!scope.branch) return { allowed: false, message: "a build of a tag saves no cache (no branch)" };
      return { allowed: true };
    }
  }
}

/** The body of the SubjectAccessReview for a reader. */
export function accessReview(user: UserInfo, attributes: ResourceAttributes): Record<string, unknown> {
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: user.username,
      ...(user.uid ? { uid: user.uid } : {}),
      groups: user.groups,
      extra: user.extra,
      resourceAttributes: attributes,
    },
  };
}
