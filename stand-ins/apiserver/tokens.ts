// Bearer-token authentication: one admin token (written into the kubeconfig) and service-account
// tokens issued through TokenRequest — JWTs with kube's claims, signed with a key made at start.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { adminUser, serviceAccountUser, type UserInfo } from "./rbac/user.ts";

export const ISSUER = "https://kubernetes.default.svc.cluster.local";

export interface ServiceAccountClaims {
  namespace: string;
  name: string;
  uid: string;
  audiences: string[];
  /** Seconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
  pod?: { name: string; uid: string };
}

/** Whether what a token is bound to still exists: its ServiceAccount and, when bound to one, its Pod (by uid). */
export type BindingCheck = (binding: {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
}) => boolean;

function b64(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

export class Tokens {
  readonly adminToken: string;
  private readonly key: Buffer;
  private readonly bound: BindingCheck;

  constructor(bound: BindingCheck, adminToken: string = randomBytes(24).toString("base64url")) {
    this.adminToken = adminToken;
    this.key = randomBytes(32);
    this.bound = bound;
  }

  issue(c: ServiceAccountClaims): string {
    const header = b64(JSON.stringify({ alg: "HS256", typ: "JWT", kid: "kiln-test" }));
    const payload = b64(
      JSON.stringify({
        aud: c.audiences,
        exp: c.expiresAt,
        iat: c.issuedAt,
        nbf: c.issuedAt,
        iss: ISSUER,
        sub: `system:serviceaccount:${c.namespace}:${c.name}`,
        "kubernetes.io": {
          namespace: c.namespace,
          serviceaccount: { name: c.name, uid: c.uid },
          ...(c.pod ? { pod: c.pod } : {}),
        },
      }),
    );
    const signature = createHmac("sha256", this.key).update(`${header}.${payload}`).digest("base64url");
    return `${header}.${payload}.${signature}`;
  }

  /**
   * Who a bearer token belongs to (kube's user.Info), or undefined when it is not valid (now: seconds since
   * the epoch) — as kube-apiserver does, also when it is meant for none of `audiences` (by default the API
   * server's own): a token for another audience (say kiln-store) is no credential here.
   */
  authenticate(
    authorization: string | undefined,
    now: number,
    audiences: readonly string[] = [ISSUER],
  ): UserInfo | undefined {
    return this.review(authorization, now, audiences)?.user;
  }

  /**
   * A TokenReview's answer: the user and the audiences the token is valid for among those asked (none
   * asked: the API server's). The admin token is audience-agnostic, as kube's static tokens are: valid for
   * the API server's audience only (kube's WrapAudienceAgnosticToken).
   */
  review(
    authorization: string | undefined,
    now: number,
    asked: readonly string[] = [ISSUER],
  ): { user: UserInfo; audiences: string[] } | undefined {
    const wanted = asked.length > 0 ? asked : [ISSUER];
    const within = (held: readonly string[]) => wanted.filter((a) => held.includes(a));
    const user = this.#authenticate(authorization, now);
    if (!user) return undefined;
    // The admin token is audience-agnostic (the server's); a service-account JWT holds only its `aud`.
    const audiences = within(user.audiences ?? [ISSUER]);
    return audiences.length > 0 ? { user: user.info, audiences } : undefined;
  }

  #authenticate(
    authorization: string | undefined,
    now: number,
  ): { info: UserInfo; audiences?: string[] } | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!m) return undefined;
    const token = m[1]!;
    const a = Buffer.from(token);
    const b = Buffer.from(this.adminToken);
    if (a.length === b.length && timingSafeEqual(a, b)) return { info: adminUser() };
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    const expected = createHmac("sha256", this.key).update(`${parts[0]}.${parts[1]}`).digest();
    const given = Buffer.from(parts[2]!, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as {
        aud: string[];
        exp: number;
        "kubernetes.io": {
          namespace: string;
          serviceaccount: { name: string; uid: string };
          pod?: { name: string; uid: string };
        };
      };
      if (claims.exp <= now) return undefined;
      // As kube-apiserver: a token whose ServiceAccount or Pod was deleted (or replaced) is no credential.
      const k = claims["kubernetes.io"];
      if (!this.bound({ namespace: k.namespace, serviceAccount: k.serviceaccount, pod: k.pod }))
        return undefined;
      // As kube's service-account authenticator: the account's uid, and the pod a bound token names.
      const user = serviceAccountUser(k.namespace, k.serviceaccount.name, k.serviceaccount.uid);
      if (k.pod)
        user.extra = {
          "authentication.kubernetes.io/pod-name": [k.pod.name],
          "authentication.kubernetes.io/pod-uid": [k.pod.uid],
        };
      // As kube-apiserver: a JWT that names no audience is valid for none.
      return { info: user, audiences: Array.isArray(claims.aud) ? claims.aud : [] };
    } catch {
      return undefined;
    }
  }
}
