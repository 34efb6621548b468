// X-Hub-Signature-256 over the raw body, compared in constant time (@octokit/webhooks-methods uses
// timingSafeEqual). Several secrets are tried in turn so a secret can be rotated without lost deliveries.
import { verifyWithFallback } from "@octokit/webhooks-methods";

const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

export function isWellFormedSignature(signature: string | undefined): signature is string {
  return signature !== undefined && SIGNATURE.test(signature);
}

/** `body` is the exact text of the raw bytes (see decodeBody), so its HMAC is the HMAC of those bytes. */
export async function verifySignature(
  secrets: readonly string[],
  body: string,
  signature: string,
): Promise<boolean> {
  const [first, ...rest] = secrets.filter((secret) => secret.length > 0);
  if (first === undefined || body.length === 0) return false;
  return (await verifyWithFallback(first, body, signature, rest)) === true;
}
