// What a sweep deletes. Pure: the sweep (sweep.ts) lists the backend and carries the answer out.

export interface StoredLog {
  /** One Build's logs: `<namespace>/<build>`. */
  id: string;
  /** When its newest byte was written (ms since the epoch). */
  lastWritten: number;
}

/** The Builds whose logs were last written longer than `retentionMs` ago. */
export function expiredLogs(logs: readonly StoredLog[], now: number, retentionMs: number): string[] {
  return logs.filter((l) => now - l.lastWritten > retentionMs).map((l) => l.id);
}

export interface StoredCache {
  id: string;
  size: number;
  /** When it was saved (ms since the epoch). */
  created: number;
  /** When it was last restored, if ever. */
  lastUsed?: number;
}

/**
 * Least recently used first (a cache never restored counts from when it was saved; ties go to the older
 * save), until what stays fits in `maxBytes`.
 */
export function cachesToEvict(caches: readonly StoredCache[], maxBytes: number): string[] {
  let total = caches.reduce((sum, c) => sum + c.size, 0);
  if (total <= maxBytes) return [];
  const used = (c: StoredCache) => Math.max(c.created, c.lastUsed ?? 0);
  const order = [...caches].sort(
    (a, b) => used(a) - used(b) || a.created - b.created || (a.id < b.id ? -1 : 1),
  );
  const evict: string[] = [];
  for (const c of order) {
    if (total <= maxBytes) break;
    evict.push(c.id);
    total -= c.size;
  }
  return evict;
}
