// What a JWT bearer token says of itself, unverified: for the components that have the API server review a
// token (the store, the build page's --page-auth) and must not trust it longer, or for more, than it says.
export interface TokenClaims {
  audiences?: string[];
  /** When the token expires (ms since the epoch). */
  expiresAt?: number;
}

/**
 * The `aud` and `exp` claims of a token that is a JWT, unverified — read only after a TokenReview accepted
 * the token: to hold the review to the audiences the token really carries (a server that does not check
 * audiences would otherwise let a token meant for the API server through), and to cache the review no
 * longer than the token lives. Undefined for a token that is no JWT.
 */
export function tokenClaims(token: string): TokenClaims | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as {
      aud?: unknown;
      exp?: unknown;
    };
    if (typeof claims !== "object" || claims === null) return undefined;
    const audiences =
      typeof claims.aud === "string"
        ? [claims.aud]
        : Array.isArray(claims.aud)
          ? claims.aud.filter((a): a is string => typeof a === "string")
          : undefined;
    return {
      ...(audiences ? { audiences } : {}),
      ...(typeof claims.exp === "number" ? { expiresAt: claims.exp * 1000 } : {}),
    };
  } catch {
    return undefined;
  }
}
