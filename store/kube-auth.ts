// Every request's token, checked with the Kubernetes API (the decisions are scope.ts's): a TokenReview
// says whose it is, the Pod and Build of a build pod's token give its scope, a SubjectAccessReview decides
// a reader's read. Answers are cached briefly, as kube-apiserver caches webhook token reviews: a review
// for at most a minute (never beyond the token's expiry), a build pod's scope for five, an access review
// for a minute (ten seconds when denied). The store needs `create` on tokenreviews and
// subjectaccessreviews and `get` on pods and builds — no Secret, nothing listed. Tokens are never logged:
// the caches key them by their SHA-256.
import { createHash } from "node:crypto";
import { API_VERSION, LABELS, RESOURCES } from "../api/group.ts";
import { HttpError, UnavailableError } from "../lib/http-error.ts";
import { type KubeClient, resourcePath } from "../lib/kube.ts";
import { httpStatus, isNotFound } from "../lib/kube-errors.ts";
import { tokenClaims } from "../lib/token-claims.ts";
import { TtlCache } from "../lib/ttl-cache.ts";
import {
  type AgentIdentity,
  accessReview,
  type BuildFacts,
  buildScope,
  type Identity,
  identify,
  isRefusal,
  type Operation,
  type PodFacts,
  permit,
  type Refusal,
  reviewAudiences,
  type Scope,
  type ScopeSettings,
  type TokenReviewStatus,
} from "./scope.ts";

export interface Authorizer {
  /** The scope of a request's Authorization header, if it may do `op`; throws HttpError 401, 403 or 503. */
  authorize(authorization: string | undefined, op: Operation): Promise<Scope>;
}

const REVIEW_TTL_MS = 60_000;
const REFUSED_TTL_MS = 10_000;
const SCOPE_TTL_MS = 300_000;

export function kubeAuthorizer(
  client: KubeClient,
  settings: ScopeSettings,
  now: () => number = Date.now,
): Authorizer {
  const identities = new TtlCache<Identity | Refusal>(10_000, now);
  const scopes = new TtlCache<Scope | Refusal>(10_000, now);
  const access = new TtlCache<boolean>(10_000, now);

  const review = (token: string) =>
    identities.get(createHash("sha256").update(token).digest("hex"), async () => {
      const answer = await kube("TokenReview", () =>
        client.create<{ status?: TokenReviewStatus }>("/apis/authentication.k8s.io/v1/tokenreviews", {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenReview",
          spec: { token, audiences: reviewAudiences(settings) },
        }),
      );
      const claims = tokenClaims(token);
      const value = identify(answer.status ?? {}, claims?.audiences, settings);
      const lifetime = claims?.expiresAt === undefined ? REVIEW_TTL_MS : claims.expiresAt - now();
      return { value, ttlMs: isRefusal(value) ? REFUSED_TTL_MS : Math.min(REVIEW_TTL_MS, lifetime) };
    });

  const scopeOf = (agent: AgentIdentity) =>
    scopes.get(`${agent.namespace}/${agent.pod.uid}`, async () => {
      const pod = await kube("Pod", () =>
        orUndefined(client.get<PodFacts>(resourcePath("v1", "pods", agent.namespace, agent.pod.name))),
      );
      const name = pod?.metadata?.labels?.[LABELS.build];
      const build = name
        ? await kube("Build", () =>
            orUndefined(
              client.get<BuildFacts>(
                resourcePath(API_VERSION, RESOURCES.Build.plural, agent.namespace, name),
              ),
            ),
          )
        : undefined;
      const value = buildScope(agent, pod, build, settings);
      return { value, ttlMs: isRefusal(value) ? 5_000 : SCOPE_TTL_MS };
    });

  return {
    async authorize(authorization, op) {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
      if (!token)
        throw refused({ status: 401, message: "an Authorization: Bearer <token> header is required" });
      const identity = await review(token);
      if (isRefusal(identity)) throw refused(identity);
      const scope = identity.kind === "agent" ? await scopeOf(identity) : identity;
      if (isRefusal(scope)) throw refused(scope);
      const permission = permit(scope, op);
      if ("review" in permission) {
        if (scope.kind !== "reader") throw new Error("only readers are reviewed");
        const attrs = permission.review;
        const key = JSON.stringify([scope.user, attrs]);
        const allowed = await access.get(key, async () => {
          const answer = await kube("SubjectAccessReview", () =>
            client.create<{ status?: { allowed?: boolean } }>(
              "/apis/authorization.k8s.io/v1/subjectaccessreviews",
              accessReview(scope.user, attrs),
            ),
          );
          const ok = answer.status?.allowed === true;
          return { value: ok, ttlMs: ok ? REVIEW_TTL_MS : REFUSED_TTL_MS };
        });
        if (!allowed) {
          throw refused({
            status: 403,
            message: `${scope.user.username} may not get ${attrs.resource}/${attrs.subresource} of ${attrs.namespace}/${attrs.name}`,
          });
        }
        return scope;
      }
      if (!permission.allowed) throw refused({ status: 403, message: permission.message });
      return scope;
    },
  };
}

function refused(r: Refusal): HttpError {
  return new HttpError(r.status, r.message);
}

async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** A Kubernetes call for a check: its failure is the store's (503, or 500 when its RBAC is missing), never the client's. */
async function kube<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const status = httpStatus(err);
    if (status === 401 || status === 403) {
      throw new HttpError(500, `the store may not check a ${what} with the Kubernetes API (its RBAC)`, {
        cause: err,
        expose: true,
      });
    }
    throw new UnavailableError(`cannot check the token: the Kubernetes API failed (${what})`, { cause: err });
  }
}
