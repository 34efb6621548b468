// The pod-template-hash label: a 32-bit FNV-1a hash of the pod template (and the Deployment's
// collisionCount, as 8 little-endian bytes), encoded with kube's rand.SafeEncodeString alphabet — the
// shape of kube's controller.ComputeHash. kube hashes a spew dump of the Go struct; this hashes the
// template's canonical JSON, so the value differs from a real cluster's while the behaviour (a new
// value for a new template or collision count) is the same.
import { isDeepStrictEqual } from "node:util";

export const POD_TEMPLATE_HASH = "pod-template-hash";

const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let hash = seed;
  for (const b of bytes) {
    hash ^= b;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** rand.SafeEncodeString: each character mapped into an alphabet without vowels or look-alikes. */
export function safeEncodeString(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) out += ALPHANUMS[text.charCodeAt(i) % ALPHANUMS.length];
  return out;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function computeHash(template: unknown, collisionCount: number | undefined): string {
  const text = Buffer.from(JSON.stringify(canonical(template)), "utf8");
  let bytes: Uint8Array = text;
  if (collisionCount !== undefined) {
    const extra = Buffer.alloc(8);
    extra.writeUInt32LE(collisionCount >>> 0, 0);
    bytes = Buffer.concat([text, extra]);
  }
  return safeEncodeString(String(fnv32a(bytes)));
}

/** apimachinery's semantic equality for decoded JSON: absent, null, empty map and empty list are alike. */
function prune(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map(prune);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = prune(v);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value === null ? undefined : value;
}

function withoutHash(template: unknown): unknown {
  const t = (template ?? {}) as { metadata?: { labels?: Record<string, string> } };
  const labels = { ...t.metadata?.labels };
  delete labels[POD_TEMPLATE_HASH];
  return { ...t, metadata: { ...t.metadata, labels } };
}

/** deploymentutil.EqualIgnoreHash: the same template apart from the pod-template-hash label. */
export function equalIgnoreHash(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(prune(withoutHash(a)), prune(withoutHash(b)));
}
