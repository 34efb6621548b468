// `.kiln.yaml`'s `cache:` applied: the key from a hash of `files`, the restore before the first step, the
// save after a successful pipeline. The same in the build pod (the store, through StoreClient) and in
// `kiln run` (a local directory, local-cache.ts). Nothing here fails a build: every outcome is one line
// for the build's log (`cache: restored …`, `cache: miss …`, `cache: not saved: …`).
//
// An archive is a tar stream compressed with zstd (its magic number says so; gzip is read too), entries
// named as the build container sees them (api/cache.ts). It is streamed both ways, never held whole.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, rm } from "node:fs/promises";
import { posix } from "node:path";
import { PassThrough, type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createZstdCompress, createZstdDecompress } from "node:zlib";
import { Pack } from "tar";
import {
  archiveName,
  type CachePath,
  cacheBranches,
  fullCacheKey,
  localCacheDir,
  resolveCachePath,
} from "../api/cache.ts";
import type { RepositoryRef } from "../api/store-protocol.ts";
import type { CacheFound, CacheQuery, StoreClient } from "../lib/store-client.ts";
import { type Share, UntarWorker } from "./untar.ts";

export interface CacheSpec {
  key: string;
  paths: string[];
  files?: string[];
}

/** Where caches are kept: the store (a build pod) or a directory (`kiln run`). */
export interface CacheStore {
  /** The cache a restore gets (api/cache-choice.ts's choice), or undefined for a miss. */
  restore(query: CacheQuery, signal?: AbortSignal): Promise<(CacheFound & { body: Readable }) | undefined>;
  /** Saves an archive under the key (for the build's own branch); last writer wins. */
  save(key: string, body: Readable, signal?: AbortSignal): Promise<void>;
}

export interface CacheDirs {
  /** The workspace as this process sees it (/workspace in the pod, the directory in `kiln run`). */
  workspace: string;
  /** Where the paths outside the workspace are seen (CACHE_MOUNT_DIR in the pod); unset: not cached. */
  outside?: string;
}

/** A cache path and where this process reads and writes it. */
interface Located extends CachePath {
  name: string;
  dir: string;
  /** Where the path is rooted (the workspace, or the cache volume): no symbolic link below it is followed. */
  root: string;
}

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/**
 * The first symbolic link on the way from `root` (trusted) down to `full`, itself included, or undefined.
 * A repository can commit a link (`k -> /var/run/secrets/…`): a cache path or a hashed file under it must
 * not lead the agent, which reads and writes them with its own rights, anywhere but where it says.
 */
export async function linkOnTheWay(root: string, full: string): Promise<string | undefined> {
  const rel = posix.relative(root, full);
  if (rel.startsWith("..") || posix.isAbsolute(rel)) return full;
  let at = root;
  for (const part of rel.split("/").filter(Boolean)) {
    at = posix.join(at, part);
    const stat = await lstat(at).catch(() => undefined);
    if (!stat) return undefined;
    if (stat.isSymbolicLink()) return at;
  }
  return undefined;
}

/**
 * The hash of `files`, in order, relative to the workspace: each file's name, then whether it is there
 * (a missing file, or anything but a regular file, hashes as absent) and its bytes. Streamed.
 */
export async function hashFiles(workspace: string, files: readonly string[]): Promise<string> {
  const hash = createHash("sha256");
  for (const file of files) {
    const path = resolveCachePath(file);
    hash.update(`${path.workspace}\0`);
    const full = posix.join(workspace, path.workspace ?? "");
    // Through a symbolic link it is not the repository's file: hashed as absent, never read.
    const stat = (await linkOnTheWay(workspace, full)) ? undefined : await lstat(full).catch(() => undefined);
    if (!stat?.isFile()) {
      hash.update("absent\0");
      continue;
    }
    hash.update(`present\0${stat.size}\0`);
    for await (const chunk of createReadStream(full)) hash.update(chunk as Buffer);
  }
  return hash.digest("hex").slice(0, 32);
}

/** Why a successful build's cache is not saved, or undefined when it is. Pure. */
export function noSaveReason(o: {
  fork: boolean;
  branch: string | undefined;
  restoredExact: boolean;
  key: string;
}): string | undefined {
  if (o.fork) return "fork";
  if (!o.branch) return "tag build";
  if (o.restoredExact) return `${o.key} was restored exactly`;
  return undefined;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const why = (error: unknown) => (error as Error).message ?? String(error);

export interface BuildCacheOptions {
  spec: CacheSpec;
  dirs: CacheDirs;
  store: CacheStore;
  /** Says one line in the build's log (and wherever else the caller wants). */
  say: (line: string) => void;
  /** How long a restore or save may move no byte before it is given up (default 60 s): a store gone quiet. */
  stallMs?: number;
  /**
   * Who may change restored files of the paths outside the workspace besides this process's user: its
   * group (the pod's fsGroup, which the build container's user is in: the default), or everyone
   * (`kiln run --image`: a private directory of the run, and an image user in no group of ours).
   * Workspace paths are always shared with the group.
   */
  shareOutside?: Share;
  now?: () => number;
}

/** One build's cache: its key is fixed before the first step, as the files were then. */
export class BuildCache {
  readonly key: string;
  readonly #o: BuildCacheOptions;
  readonly #paths: Located[];
  #restoredExact = false;

  private constructor(key: string, paths: Located[], options: BuildCacheOptions) {
    this.key = key;
    this.#paths = paths;
    this.#o = options;
  }

  static async open(options: BuildCacheOptions): Promise<BuildCache> {
    const { spec, dirs } = options;
    const key = fullCacheKey(spec.key, await hashFiles(dirs.workspace, spec.files ?? []));
    const paths: Located[] = [];
    for (const written of spec.paths) {
      const p = resolveCachePath(written);
      if (p.workspace === undefined && dirs.outside === undefined) {
        options.say(`cache: ${p.path} is outside the workspace and not cached here`);
        continue;
      }
      const dir = localCacheDir(p, { workspace: dirs.workspace, outside: dirs.outside ?? "/" });
      const root = p.workspace === undefined ? (dirs.outside ?? "/") : dirs.workspace;
      const link = await linkOnTheWay(root, dir);
      if (link) {
        options.say(`cache: ${p.path} is not cached: ${link} is a symbolic link`);
        continue;
      }
      paths.push({ ...p, name: archiveName(p), dir, root });
    }
    return new BuildCache(key, paths, options);
  }

  /** Restores the cache a build of `branch` gets into the paths that are absent or empty. Never throws. */
  async restore(branch: string | undefined, defaultBranch: string, signal?: AbortSignal): Promise<void> {
    const now = this.#o.now ?? Date.now;
    const started = now();
    const targets: Located[] = [];
    for (const p of this.#paths) {
      if (await isEmpty(p.dir)) targets.push(p);
      else this.#o.say(`cache: ${p.path} is already there and not restored over`);
    }
    if (targets.length === 0) return;
    let unpacking = false;
    const stall = new Stall(this.#o.stallMs ?? STALL_MS, signal);
    try {
      const found = await this.#o.store.restore(
        { key: this.key, prefixes: [`${this.#o.spec.key}-`], branches: cacheBranches(branch, defaultBranch) },
        stall.signal,
      );
      if (!found) {
        this.#o.say(`cache: miss (${this.key})`);
        return;
      }
      unpacking = true;
      const skipped = await unpackArchive(stall.watch(found.body), targets, {
        shareOutside: this.#o.shareOutside ?? "group",
        signal: stall.signal,
      });
      this.#restoredExact = found.exact;
      const how = found.exact ? "exact" : `fallback from branch ${found.branch}`;
      const left = skipped ? `; ${skipped} entries left out (links out of it, devices)` : "";
      this.#o.say(
        `cache: restored ${found.key} (${how}, ${formatBytes(found.size)}, ${seconds(now() - started)}${left})`,
      );
    } catch (error) {
      // Half a cache is worse than none: the paths go back to what they were (absent or empty).
      if (unpacking) for (const p of targets) await emptyOut(p.dir).catch(() => undefined);
      this.#o.say(`cache: not restored: ${why(stall.reason ?? error)}`);
    } finally {
      stall.stop();
    }
  }

  /** Saves the paths after a successful pipeline, unless `noSaveReason` says not to. Never throws. */
  async save(o: { fork: boolean; branch: string | undefined }, signal?: AbortSignal): Promise<void> {
    const now = this.#o.now ?? Date.now;
    const reason = noSaveReason({ ...o, restoredExact: this.#restoredExact, key: this.key });
    if (reason) {
      this.#o.say(`cache: not saved (${reason})`);
      return;
    }
    const started = now();
    const present: Located[] = [];
    for (const p of this.#paths) {
      // The steps ran since the paths were checked: a link made on the way since is refused too.
      const link = await linkOnTheWay(p.root, p.dir);
      if (link) this.#o.say(`cache: ${p.path} is not saved: ${link} is a symbolic link`);
      else if (await lstat(p.dir).catch(() => undefined)) present.push(p);
    }
    if (present.length === 0) {
      this.#o.say("cache: not saved (none of its paths exist)");
      return;
    }
    const stall = new Stall(this.#o.stallMs ?? STALL_MS, signal);
    try {
      const packed = packArchive(present);
      const body = stall.watch(packed.body);
      try {
        await Promise.all([this.#o.store.save(this.key, body, stall.signal), packed.done]);
      } finally {
        // A refused or failed upload stops the packing too (no archive is left half read).
        body.destroy();
      }
      const left = packed.skipped() ? `; ${packed.skipped()} unreadable entries left out` : "";
      this.#o.say(
        `cache: saved ${this.key} (${formatBytes(packed.bytes())}, ${seconds(now() - started)}${left})`,
      );
    } catch (error) {
      this.#o.say(`cache: not saved: ${why(stall.reason ?? error)}`);
    } finally {
      stall.stop();
    }
  }
}

const STALL_MS = 60_000;

/** Aborts when no byte moved for `ms` (a store that stopped mid-stream), or when `outer` aborts. */
class Stall {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #timer: NodeJS.Timeout | undefined;
  /** Why it gave up, when it did so on its own. */
  reason: Error | undefined;

  constructor(ms: number, outer: AbortSignal | undefined) {
    this.#ms = ms;
    if (outer?.aborted) this.#controller.abort(outer.reason);
    outer?.addEventListener("abort", () => this.#controller.abort(outer.reason), { once: true });
    this.#poke();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  #poke(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.reason = new Error(`no byte moved for ${seconds(this.#ms)}: given up`);
      this.#controller.abort(this.reason);
    }, this.#ms);
  }

  /** `source` through a pass-through whose bytes count as progress (its errors and ends carried on). */
  watch(source: Readable): Transform {
    const watched = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.#poke();
        done(null, chunk);
      },
    });
    pipeline(source, watched).catch(() => undefined);
    return watched;
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}

/** Removes what a path holds, keeping the directory itself when it is one (a mount point, in the pod). */
async function emptyOut(dir: string): Promise<void> {
  const stat = await lstat(dir).catch(() => undefined);
  if (!stat) return;
  if (!stat.isDirectory()) return rm(dir, { force: true });
  for (const name of await readdir(dir)) await rm(posix.join(dir, name), { recursive: true, force: true });
}

async function isEmpty(dir: string): Promise<boolean> {
  const stat = await lstat(dir).catch(() => undefined);
  if (!stat) return true;
  if (!stat.isDirectory()) return false;
  return (await readdir(dir)).length === 0;
}

/** Archive name → the path of that name relative to "/", for the entries of these paths only. */
function mapper(paths: readonly Located[], from: "name" | "dir") {
  const pairs = paths.map((p) => ({
    from: from === "name" ? p.name : p.dir.slice(1),
    to: from === "name" ? p.dir.slice(1) : p.name,
  }));
  return (path: string): string | undefined => {
    const clean = path.replace(/\/+$/, "");
    const slash = clean.length < path.length ? "/" : "";
    for (const { from, to } of pairs) {
      if (clean === from) return to + slash;
      if (clean.startsWith(`${from}/`)) return to + clean.slice(from.length) + slash;
    }
    return undefined;
  };
}

export interface Ids {
  uid: number;
  groups: readonly number[];
}

const ownIds = (): Ids => ({
  uid: process.getuid?.() ?? 0,
  groups: [process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])],
});

/** Whether a user may read a file or list a directory, from its stat alone (no syscall each). Pure. */
export function readable(
  stat: { mode: number; uid: number; gid: number; isDirectory(): boolean },
  ids: Ids,
): boolean {
  if (ids.uid === 0) return true;
  const need = stat.isDirectory() ? 0o5 : 0o4;
  if (stat.uid === ids.uid) return ((stat.mode >> 6) & need) === need;
  if (ids.groups.includes(stat.gid)) return ((stat.mode >> 3) & need) === need;
  return (stat.mode & need) === need;
}

/** The paths as a zstd-compressed tar stream; `done` settles when it is written whole. */
export function packArchive(paths: readonly Located[]): {
  body: Readable;
  done: Promise<void>;
  bytes: () => number;
  skipped: () => number;
} {
  const toName = mapper(paths, "dir");
  let skipped = 0;
  let bytes = 0;
  const ids = ownIds();
  const pack = new Pack({
    cwd: "/",
    portable: true,
    filter: (_path, stat) => {
      const ok = readable(stat as never, ids);
      if (!ok) skipped++;
      return ok;
    },
    onWriteEntry: (entry) => {
      entry.path = toName(entry.path) ?? entry.path;
      if (entry.type === "Link" && entry.linkpath) entry.linkpath = toName(entry.linkpath) ?? entry.linkpath;
    },
  });
  for (const p of paths) pack.add(p.dir.slice(1));
  pack.end();
  const counted = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  const body = new PassThrough();
  const done = pipeline(pack as unknown as Readable, createZstdCompress(), counted, body);
  done.catch((error) => body.destroy(error));
  return { body, done, bytes: () => bytes, skipped: () => skipped };
}

/**
 * Extracts an archive's entries of `paths` where this process keeps them (untar.ts); entries of other
 * paths (a fallback saved with other paths) are left out. Files come out writable like their owner's
 * bits for the group (or everyone: `shareOutside`), so the build container's user (in the pod's fsGroup) may
 * change them. Returns what was
 * left out that a cache should not hold (links climbing out, devices), counted.
 */
export async function unpackArchive(
  body: Readable,
  paths: readonly Located[],
  options: { shareOutside: Share; signal?: AbortSignal | undefined },
): Promise<number> {
  const decompress = await decompressor(body);
  const share = (p: Located): Share => (p.workspace === undefined ? options.shareOutside : "group");
  const untar = new UntarWorker(paths.map((p) => ({ name: p.name, dir: p.dir, share: share(p) })));
  await pipeline(body, decompress, untar, options.signal ? { signal: options.signal } : {});
  let odd = 0;
  for (const [reason, n] of untar.skipped)
    if (reason !== "not a path of this cache" && reason !== "global header") odd += n;
  return odd;
}

/** zstd or gzip, by the archive's first bytes (peeked, then put back). */
async function decompressor(body: Readable): Promise<Transform> {
  const head = await new Promise<Buffer>((resolve, reject) => {
    const onReadable = () => {
      const chunk = body.read() as Buffer | null;
      if (chunk === null) return;
      cleanup();
      body.unshift(chunk);
      resolve(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.alloc(0));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      body.off("readable", onReadable);
      body.off("end", onEnd);
      body.off("error", onError);
    };
    body.on("readable", onReadable);
    body.on("end", onEnd);
    body.on("error", onError);
  });
  // Larger output chunks than zlib's 16 KiB: fewer, larger writes into the files.
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return createZstdDecompress({ chunkSize: 256 * 1024 });
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return createGunzip({ chunkSize: 256 * 1024 });
  throw new Error("the archive is neither zstd nor gzip");
}

/** The store as a CacheStore (a build pod's). */
export function remoteCacheStore(client: StoreClient, repository: RepositoryRef): CacheStore {
  return {
    restore: (query, signal) => client.restoreCache(repository, query, signal ? { signal } : {}),
    async save(key, body, signal) {
      await client.saveCache({ ...repository, key }, body, signal ? { signal } : {});
    },
  };
}
