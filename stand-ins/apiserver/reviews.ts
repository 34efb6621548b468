// The create-only review APIs: the authorization reviews (answered by the RBAC authorizer, see
// rbac/access-reviews.ts), SelfSubjectReview (who am I) and TokenReview (is this token valid), so
// `kubectl auth can-i` / `kubectl auth whoami` work.
import { badRequest } from "./errors.ts";
import { accessReviewKinds } from "./rbac/access-reviews.ts";
import type { Authorizer } from "./rbac/authorizer.ts";
import type { UserInfo } from "./rbac/user.ts";
import type { ReviewKind } from "./review-kind.ts";
import type { Tokens } from "./tokens.ts";

/** user.Info as the authentication.k8s.io/v1 UserInfo type serializes it. */
export function userInfo(user: UserInfo): Record<string, unknown> {
  return {
    username: user.username,
    ...(user.uid ? { uid: user.uid } : {}),
    groups: user.groups,
    ...(user.extra ? { extra: user.extra } : {}),
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

export function reviewKinds(tokens: Tokens, authorizer: Authorizer): ReviewKind[] {
  return [
    ...accessReviewKinds(authorizer),
    {
      group: "authentication.k8s.io",
      version: "v1",
      resource: "selfsubjectreviews",
      kind: "SelfSubjectReview",
      answer: (body, ctx) =>
        review(body, "authentication.k8s.io/v1", "SelfSubjectReview", { userInfo: userInfo(ctx.user) }),
    },
    {
      group: "authentication.k8s.io",
      version: "v1",
      resource: "tokenreviews",
      kind: "TokenReview",
      answer: (body, ctx) => {
        const spec = (body.spec ?? {}) as { token?: string; audiences?: string[] };
        if (!spec.token) throw badRequest("spec.token: Required value");
        const who = tokens.review(
          `Bearer ${spec.token}`,
          Math.floor(ctx.now.getTime() / 1000),
          spec.audiences ?? [],
        );
        const status = who
          ? { authenticated: true, user: userInfo(who.user), audiences: who.audiences }
          : { authenticated: false, error: "invalid bearer token" };
        return review(body, "authentication.k8s.io/v1", "TokenReview", status);
      },
    },
  ];
}
