// The periodic retention sweep: lists what is stored, asks retention.ts what goes, deletes it. Logs go a
// configured time after they were last written (whether their Build still exists or not); caches go least
// recently used first while they hold more than the limit. A save that takes the caches over the limit
// brings the next sweep forward. Safe to run on every replica at once: deleting twice is no error.
import type { Logger } from "../lib/log.ts";
import type { Backend, BlobInfo } from "./backend.ts";
import { ARCHIVE, CACHES, LOGS, parseCacheKey, parseLogKey, USED } from "./keys.ts";
import type { LogStore } from "./logs.ts";
import type { StoreMetrics } from "./metrics.ts";
import { cachesToEvict, expiredLogs } from "./retention.ts";

export interface SweepOptions {
  backend: Backend;
  logs: LogStore;
  logRetentionMs: number;
  cacheMaxBytes: number;
  intervalMs: number;
  log: Logger;
  metrics: StoreMetrics;
  now?: () => number;
}

export interface SweepResult {
  logBuilds: number;
  expiredBuilds: string[];
  cacheBytes: number;
  evictedCaches: string[];
}

/** Interrupted writes older than this are removed (no upload of a cache takes a day). */
const ABANDONED_MS = 24 * 3_600_000;

export class Sweeper {
  readonly #o: SweepOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  /** The sweep under way (or done). */
  #chain: Promise<unknown> = Promise.resolve();
  /** A sweep asked for that has not started yet: callers meanwhile share it. */
  #next: Promise<SweepResult> | undefined;
  #cacheBytes = 0;

  constructor(options: SweepOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    const tick = () => {
      void this.run().catch((err) => this.#o.log.error({ err: String(err) }, "sweep failed"));
    };
    tick();
    this.#timer = setInterval(tick, this.#o.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    await this.#chain;
  }

  /** A cache of `size` bytes was saved: sweep soon when that takes the caches over the limit. */
  saved(size: number): void {
    this.#cacheBytes += size;
    this.#o.metrics.cacheBytes.set(this.#cacheBytes);
    if (this.#cacheBytes <= this.#o.cacheMaxBytes || this.#soon || !this.#timer) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.run().catch((err) => this.#o.log.error({ err: String(err) }, "sweep failed"));
    }, 1000);
    this.#soon.unref();
  }

  /**
   * A sweep that starts now, or after the one under way (whose view of the store is already old); callers
   * meanwhile share that next one, so sweeps never run side by side or pile up.
   */
  run(): Promise<SweepResult> {
    if (this.#next) return this.#next;
    const next = this.#chain.then(() => {
      this.#next = undefined;
      return this.#sweep();
    });
    this.#next = next;
    this.#chain = next.catch(() => {});
    return next;
  }

  async #sweep(): Promise<SweepResult> {
    const { backend, metrics, log } = this.#o;
    const now = this.#now();

    const builds = new Map<
      string,
      { namespace: string; build: string; lastWritten: number; keys: string[] }
    >();
    for await (const blob of backend.list(LOGS)) {
      const ref = parseLogKey(blob.key);
      if (!ref) continue;
      const id = `${ref.namespace}/${ref.build}`;
      const entry = builds.get(id) ?? {
        namespace: ref.namespace,
        build: ref.build,
        lastWritten: 0,
        keys: [],
      };
      entry.lastWritten = Math.max(entry.lastWritten, blob.modified);
      entry.keys.push(blob.key);
      builds.set(id, entry);
    }
    const expiredBuilds = expiredLogs(
      [...builds].map(([id, b]) => ({ id, lastWritten: b.lastWritten })),
      now,
      this.#o.logRetentionMs,
    );
    for (const id of expiredBuilds) {
      const b = builds.get(id)!;
      await backend.delete(b.keys);
      this.#o.logs.forget(b);
    }

    const entries = new Map<string, { archive?: BlobInfo; used?: BlobInfo }>();
    for await (const blob of backend.list(CACHES)) {
      const ref = parseCacheKey(blob.key);
      if (!ref || (ref.file !== ARCHIVE && ref.file !== USED)) continue;
      const id = blob.key.slice(0, blob.key.length - ref.file.length);
      const entry = entries.get(id) ?? {};
      if (ref.file === ARCHIVE) entry.archive = blob;
      else entry.used = blob;
      entries.set(id, entry);
    }
    const stored = [...entries].flatMap(([id, e]) =>
      e.archive
        ? [
            {
              id,
              size: e.archive.size,
              created: e.archive.modified,
              ...(e.used ? { lastUsed: e.used.modified } : {}),
            },
          ]
        : [],
    );
    const evictedCaches = cachesToEvict(stored, this.#o.cacheMaxBytes);
    const evicted = new Set(evictedCaches);
    // A `used` blob whose archive is gone (evicted by another replica) goes too, once it is old.
    const orphans = [...entries].filter(
      ([, e]) => !e.archive && e.used && now - e.used.modified > ABANDONED_MS,
    );
    await backend.delete([
      ...evictedCaches.flatMap((id) => [`${id}${ARCHIVE}`, `${id}${USED}`]),
      ...orphans.map(([id]) => `${id}${USED}`),
    ]);
    await backend.housekeeping(now, ABANDONED_MS);

    const cacheBytes = stored.filter((c) => !evicted.has(c.id)).reduce((sum, c) => sum + c.size, 0);
    this.#cacheBytes = cacheBytes;
    metrics.cacheBytes.set(cacheBytes);
    metrics.logBuilds.set(builds.size - expiredBuilds.length);
    metrics.swept.inc({ kind: "logs" }, expiredBuilds.length);
    metrics.swept.inc({ kind: "caches" }, evictedCaches.length);
    if (expiredBuilds.length > 0 || evictedCaches.length > 0) {
      log.info(
        { expiredBuilds: expiredBuilds.length, evictedCaches: evictedCaches.length, cacheBytes },
        "swept",
      );
    }
    return { logBuilds: builds.size - expiredBuilds.length, expiredBuilds, cacheBytes, evictedCaches };
  }
}
