// Who an HTTP request acts as, and whether it may: kube's filter chain of authentication (a bearer
// token; no token only on the public paths, as system:anonymous), impersonation and authorization.
// A request without a token elsewhere, or with a bad one anywhere, is 401, as with kube's anonymous
// authentication limited to those paths.
import { unauthorized } from "../errors.ts";
import type { Tokens } from "../tokens.ts";
import { requestAttributes } from "./attributes.ts";
import type { Authorizer } from "./authorizer.ts";
import { denied } from "./forbidden.ts";
import { impersonate } from "./impersonation.ts";
import { anonymousUser, type UserInfo } from "./user.ts";

export const PUBLIC_PATHS = new Set(["/version", "/healthz", "/livez", "/readyz"]);

export interface IncomingRequest {
  method?: string;
  url?: string;
  headers: { authorization?: string };
  rawHeaders: string[];
}

export type RequestUser = { user: UserInfo } | { internalError: string };

/** The authenticated (and impersonated) user of `req`, authorized for `url`; throws 401 or 403. */
export function authorizeRequest(
  req: IncomingRequest,
  url: URL,
  tokens: Tokens,
  authorizer: Authorizer,
  nowSeconds: number,
): RequestUser {
  const authorization = req.headers.authorization;
  let user = tokens.authenticate(authorization, nowSeconds);
  if (!user) {
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (authorization !== undefined || !PUBLIC_PATHS.has(path)) throw unauthorized();
    user = anonymousUser();
  }
  const acting = impersonate(user, req.rawHeaders, authorizer);
  if ("internalError" in acting) return acting;
  if ("forbidden" in acting) throw acting.forbidden;
  const attributes = requestAttributes(acting.user, req.method ?? "GET", url);
  const decision = authorizer.authorize(attributes);
  if (!decision.allowed) throw denied(attributes, decision.reason);
  return { user: acting.user };
}
