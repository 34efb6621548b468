// The create-only review APIs: SelfSubjectAccessReview and SubjectAccessReview (always allowed: RBAC
// is not enforced here, and the answer says so), SelfSubjectReview (who am I) and TokenReview
// (is this token valid), so `kubectl auth can-i` / `kubectl auth whoami` work.
import { badRequest } from "./errors.ts";
import type { Identity, Tokens } from "./tokens.ts";

export interface ReviewKind {
  group: string;
  version: string;
  resource: string;
  kind: string;
  /** The review's answer: the request body with its status filled in. */
  answer(body: Record<string, unknown>, identity: Identity, now: Date): Record<string, unknown>;
}

const NOT_ENFORCED = "the Kiln test API server does not enforce RBAC: every authenticated request is allowed";

export function userInfo(identity: Identity): { username: string; groups: string[]; uid?: string } {
  if (identity.kind === "admin")
    return { username: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] };
  return {
    username: `system:serviceaccount:${identity.namespace}:${identity.name}`,
    groups: [
      "system:serviceaccounts",
      `system:serviceaccounts:${identity.namespace}`,
      "system:authenticated",
    ],
  };
}

function review(
  body: Record<string, unknown>,
  apiVersion: string,
  kind: string,
  status: unknown,
): Record<string, unknown> {
  const metadata = (body.metadata ?? {}) as Record<string, unknown>;
  return {
    kind,
    apiVersion,
    metadata: { ...metadata, creationTimestamp: null },
    spec: body.spec ?? {},
    status,
  };
}

export function reviewKinds(tokens: Tokens): ReviewKind[] {
  const allowed = (kind: string) => ({
    group: "authorization.k8s.io",
    version: "v1",
    resource: `${kind.charAt(0).toLowerCase()}${kind.slice(1)}s`.toLowerCase(),
    kind,
    answer: (body: Record<string, unknown>) => {
      if (body.spec !== undefined && (typeof body.spec !== "object" || body.spec === null)) {
        throw badRequest(`${kind}: spec must be an object`);
      }
      return review(body, "authorization.k8s.io/v1", kind, { allowed: true, reason: NOT_ENFORCED });
    },
  });
  return [
    allowed("SelfSubjectAccessReview"),
    allowed("SubjectAccessReview"),
    {
      group: "authentication.k8s.io",
      version: "v1",
      resource: "selfsubjectreviews",
      kind: "SelfSubjectReview",
      answer: (body, identity) =>
        review(body, "authentication.k8s.io/v1", "SelfSubjectReview", { userInfo: userInfo(identity) }),
    },
    {
      group: "authentication.k8s.io",
      version: "v1",
      resource: "tokenreviews",
      kind: "TokenReview",
      answer: (body, _identity, now) => {
        const spec = (body.spec ?? {}) as { token?: string; audiences?: string[] };
        if (!spec.token) throw badRequest("spec.token: Required value");
        const who = tokens.authenticate(`Bearer ${spec.token}`, Math.floor(now.getTime() / 1000));
        const status = who
          ? { authenticated: true, user: userInfo(who), audiences: spec.audiences ?? [] }
          : { authenticated: false, error: "invalid bearer token" };
        return review(body, "authentication.k8s.io/v1", "TokenReview", status);
      },
    },
  ];
}
