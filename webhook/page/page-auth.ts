// `--page-auth`: the build pages only for a bearer token the Kubernetes API server accepts (a TokenReview,
// with the API server's own audience: a kubeconfig's token, `kubectl create token`) whose user may
// `get builds/log` in the namespace (a SubjectAccessReview) — what reading the log from the store takes.
// The token comes in the Authorization header, or in a cookie the page sets from `?token=` once (so a link
// opened in a browser works). Answers are cached as the store caches them: a minute, ten seconds when
// refused; tokens are keyed by their SHA-256 and never logged.
import { createHash } from "node:crypto";
import { GROUP } from "../../api/group.ts";
import { HttpError, UnavailableError } from "../../lib/http-error.ts";
import type { KubeClient } from "../../lib/kube.ts";
import { httpStatus } from "../../lib/kube-errors.ts";
import { tokenClaims } from "../../lib/token-claims.ts";
import { TtlCache } from "../../lib/ttl-cache.ts";

export const TOKEN_COOKIE = "kiln_page_token";

export interface PageAuth {
  /** Resolves when the token may read the namespace's build pages; throws HttpError 401, 403 (or 503). */
  check(token: string | undefined, namespace: string): Promise<void>;
}

/** The token of a request: its Authorization: Bearer header, else the page's cookie. */
export function requestToken(
  authorization: string | undefined,
  cookie: string | undefined,
): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  if (bearer) return bearer;
  for (const part of (cookie ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === TOKEN_COOKIE && value.length > 0) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

interface ReviewedUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

const OK_TTL_MS = 60_000;
const REFUSED_TTL_MS = 10_000;

export function kubePageAuth(client: KubeClient, now: () => number = Date.now): PageAuth {
  const users = new TtlCache<ReviewedUser | undefined>(10_000, now);
  const access = new TtlCache<boolean>(10_000, now);
  return {
    async check(token, namespace) {
      if (!token)
        throw new HttpError(
          401,
          "this page needs a Kubernetes token: an Authorization: Bearer header, or ?token=<token> once",
        );
      const key = createHash("sha256").update(token).digest("hex");
      const user = await users.get(key, async () => {
        const answer = await kube("TokenReview", () =>
          client.create<{ status?: { authenticated?: boolean; user?: ReviewedUser } }>(
            "/apis/authentication.k8s.io/v1/tokenreviews",
            { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
          ),
        );
        const ok = answer.status?.authenticated === true && !!answer.status.user?.username;
        if (!ok) return { value: undefined, ttlMs: REFUSED_TTL_MS };
        // Never trusted longer than the token says it lives (as the store does).
        const expiresAt = tokenClaims(token)?.expiresAt;
        const ttlMs = expiresAt === undefined ? OK_TTL_MS : Math.min(OK_TTL_MS, expiresAt - now());
        return { value: answer.status!.user, ttlMs };
      });
      if (!user)
        throw new HttpError(401, "the token is not valid (expired, revoked, or not a Kubernetes token)");
      const allowed = await access.get(`${key}/${namespace}`, async () => {
        const answer = await kube("SubjectAccessReview", () =>
          client.create<{ status?: { allowed?: boolean } }>(
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            {
              apiVersion: "authorization.k8s.io/v1",
              kind: "SubjectAccessReview",
              spec: {
                user: user.username,
                ...(user.uid ? { uid: user.uid } : {}),
                groups: user.groups ?? [],
                extra: user.extra ?? {},
                resourceAttributes: {
                  namespace,
                  verb: "get",
                  group: GROUP,
                  resource: "builds",
                  subresource: "log",
                },
              },
            },
          ),
        );
        const ok = answer.status?.allowed === true;
        return { value: ok, ttlMs: ok ? OK_TTL_MS : REFUSED_TTL_MS };
      });
      if (!allowed) throw new HttpError(403, `${user.username} may not get builds/log in ${namespace}`);
    },
  };
}

/** A review the webhook cannot make is its own failure (503, or 500 when its RBAC lacks it), not the reader's. */
async function kube<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const status = httpStatus(err);
    if (status === 401 || status === 403)
      throw new HttpError(500, `the webhook may not create a ${what} (its RBAC)`, {
        cause: err,
        expose: true,
      });
    throw new UnavailableError(`cannot check the token: the Kubernetes API failed (${what})`, { cause: err });
  }
}
