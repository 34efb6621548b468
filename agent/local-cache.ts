// `kiln run`'s caches: a directory on this machine, one folder per repository directory, laid out as the
// store lays out its own (a folder per branch, an archive per key) and chosen the same way
// (api/cache-choice.ts): the exact key on the local branch, else the newest of the prefix, then the same
// on the default branch. A save is written beside its place and renamed over it: last writer wins, and a
// reader that has an archive open keeps reading it.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { chooseCache, type SavedCache } from "../api/cache-choice.ts";
import { segment } from "../api/store-protocol.ts";
import type { CacheFound, CacheQuery } from "../lib/store-client.ts";
import type { CacheStore } from "./cache.ts";

const ARCHIVE = ".tar.zst";

/** `--cache-dir`'s default: $XDG_CACHE_HOME/kiln, else ~/.cache/kiln. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return xdg?.startsWith("/") ? join(xdg, "kiln") : join(homedir(), ".cache", "kiln");
}

/** The folder of one repository directory's caches: its name and a hash of its absolute path. */
export function repositoryCacheDir(cacheDir: string, repositoryDir: string): string {
  const id = createHash("sha256").update(repositoryDir).digest("hex").slice(0, 12);
  return join(cacheDir, `${basename(repositoryDir) || "root"}-${id}`);
}

// Branches and keys become file names by api/store-protocol.ts segment (the store's own key encoding).

export function localCacheStore(dir: string, branch: string | undefined): CacheStore {
  return {
    async restore(query: CacheQuery): Promise<(CacheFound & { body: Readable }) | undefined> {
      const saved: (SavedCache & { file: string })[] = [];
      for (const b of query.branches) {
        const folder = join(dir, segment(b));
        const names = await readdir(folder).catch(() => [] as string[]);
        for (const name of names) {
          if (!name.endsWith(ARCHIVE)) continue;
          const file = join(folder, name);
          const s = await stat(file).catch(() => undefined);
          if (!s?.isFile()) continue;
          const key = decodeURIComponent(name.slice(0, -ARCHIVE.length));
          saved.push({ branch: b, key, created: s.mtimeMs, size: s.size, file });
        }
      }
      const choice = chooseCache(saved, {
        key: query.key,
        prefixes: query.prefixes ?? [],
        branches: query.branches,
      });
      if (!choice) return undefined;
      const { cache } = choice;
      return {
        key: cache.key,
        branch: cache.branch,
        exact: choice.exact,
        size: cache.size,
        body: createReadStream(cache.file),
      };
    },
    async save(key: string, body: Readable, signal?: AbortSignal): Promise<void> {
      if (!branch) throw new Error("no branch to save under");
      const folder = join(dir, segment(branch));
      await mkdir(folder, { recursive: true });
      const file = join(folder, `${segment(key)}${ARCHIVE}`);
      const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
      try {
        await pipeline(body, createWriteStream(tmp), signal ? { signal } : {});
        await rename(tmp, file);
      } catch (error) {
        await rm(tmp, { force: true });
        throw error;
      }
    },
  };
}
