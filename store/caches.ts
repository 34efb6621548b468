// Caches over a backend: one archive blob per (namespace, repository, branch, key), written whole by the
// backend's atomic put (two saves of one key at once both succeed, the last to finish wins, neither waits
// for the other), and a small `used` blob rewritten on each restore for least-recently-used eviction.
// The archive's bytes are the client's (a tar stream, zstd- or gzip-compressed): the store never reads them.
import type { Readable } from "node:stream";
import { type CacheChoice, type CacheQuery, chooseCache, type SavedCache } from "../api/cache-choice.ts";
import type { CacheSaveAnswer, RepositoryRef } from "../api/store-protocol.ts";
import type { Backend } from "./backend.ts";
import { ARCHIVE, branchCachePrefix, cacheEntryPrefix, parseCacheKey, USED } from "./keys.ts";

export interface CacheHit extends CacheChoice<SavedCache> {}

export class CacheStore {
  readonly #backend: Backend;
  readonly #onSaved: (size: number) => void;

  constructor(backend: Backend, onSaved: (size: number) => void = () => {}) {
    this.#backend = backend;
    this.#onSaved = onSaved;
  }

  async save(repo: RepositoryRef, branch: string, key: string, body: Readable): Promise<CacheSaveAnswer> {
    const info = await this.#backend.put(`${cacheEntryPrefix(repo, branch, key)}${ARCHIVE}`, body);
    this.#onSaved(info.size);
    return { key, branch, size: info.size };
  }

  /** The cache a restore gets (cache-choice.ts), or undefined for a miss. */
  async find(repo: RepositoryRef, query: CacheQuery): Promise<CacheHit | undefined> {
    const saved: SavedCache[] = [];
    for (const branch of new Set(query.branches)) {
      for await (const blob of this.#backend.list(branchCachePrefix(repo, branch))) {
        const parsed = parseCacheKey(blob.key);
        if (parsed?.file === ARCHIVE && parsed.branch === branch) {
          saved.push({ branch, key: parsed.key, created: blob.modified, size: blob.size });
        }
      }
    }
    return chooseCache(saved, query);
  }

  /** The archive's bytes, marked as used now; undefined when it was evicted since it was found. */
  async open(repo: RepositoryRef, hit: CacheHit): Promise<Readable | undefined> {
    const entry = cacheEntryPrefix(repo, hit.cache.branch, hit.cache.key);
    const body = await this.#backend.get(`${entry}${ARCHIVE}`);
    if (body) await this.#backend.put(`${entry}${USED}`, Buffer.from(new Date().toISOString()));
    return body;
  }
}
