// The default backend: files on a directory (a PersistentVolume in the cluster, a local directory in the
// sandbox), one store replica writing it. A blob is written to `.tmp/` on the same filesystem, flushed to
// disk, then renamed over its key's path: the rename is atomic, so a reader sees the old file or the new
// one, and of two writes of one key the last rename wins. A reader that has a file open keeps reading it
// when a write replaces it or a sweep deletes it.
import { randomUUID } from "node:crypto";
import type { Dirent } from "node:fs";
import { mkdir, open, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { assertKey, type Backend, type BlobInfo } from "./backend.ts";

const TMP = ".tmp";

export class FileBackend implements Backend {
  readonly kind = "files";
  readonly shared = false;
  readonly root: string;

  private constructor(root: string) {
    this.root = root;
  }

  /** The backend on a directory, made if missing; throws when it cannot be written. */
  static async open(root: string): Promise<FileBackend> {
    const backend = new FileBackend(root);
    await mkdir(join(root, TMP), { recursive: true });
    await backend.check();
    return backend;
  }

  private path(key: string): string {
    assertKey(key);
    if (key === TMP || key.startsWith(`${TMP}/`)) throw new Error(`not a valid store key: ${key}`);
    return join(this.root, ...key.split("/"));
  }

  async put(key: string, body: Readable | Buffer): Promise<BlobInfo> {
    const target = this.path(key);
    const temp = join(this.root, TMP, randomUUID());
    try {
      const file = await open(temp, "wx");
      if (Buffer.isBuffer(body)) {
        try {
          await file.writeFile(body);
          await file.sync();
        } finally {
          await file.close();
        }
      } else {
        // flush: fsync before close, so a rename never publishes bytes still only in the page cache.
        await pipeline(body, file.createWriteStream({ flush: true }));
      }
      await this.publish(temp, target);
      const info = await stat(target);
      return { key, size: info.size, modified: info.mtimeMs };
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  private async publish(temp: string, target: string): Promise<void> {
    // A sweep may remove the (empty) directory between mkdir and rename: make it again once.
    for (let attempt = 0; ; attempt++) {
      await mkdir(dirname(target), { recursive: true });
      try {
        await rename(temp, target);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT" || attempt > 0) throw err;
      }
    }
  }

  async get(key: string, start = 0): Promise<Readable | undefined> {
    try {
      const file = await open(this.path(key), "r");
      // Large reads: a cache is read whole, and each read is a syscall and an event.
      return file.createReadStream({ start, autoClose: true, highWaterMark: 1024 * 1024 });
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    try {
      const info = await stat(this.path(key));
      return info.isFile() ? { key, size: info.size, modified: info.mtimeMs } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    // Walk the deepest directory the prefix names whole, and filter by the rest of it.
    const cut = prefix.lastIndexOf("/");
    const dir = cut < 0 ? this.root : join(this.root, ...prefix.slice(0, cut).split("/"));
    for await (const path of walk(dir)) {
      const key = relative(this.root, path).split(sep).join("/");
      if (!key.startsWith(prefix) || key.startsWith(`${TMP}/`)) continue;
      try {
        const info = await stat(path);
        yield { key, size: info.size, modified: info.mtimeMs };
      } catch (err) {
        if (!isMissing(err)) throw err; // deleted while listing
      }
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const path = this.path(key);
      await rm(path, { force: true });
      // Empty directories go too, up to (not including) the root.
      for (let dir = dirname(path); dir.startsWith(this.root + sep); dir = dirname(dir)) {
        try {
          await rmdir(dir);
        } catch {
          break;
        }
      }
    }
  }

  async check(): Promise<void> {
    const probe = join(this.root, TMP, `ready-${randomUUID()}`);
    const file = await open(probe, "wx");
    await file.close();
    await rm(probe, { force: true });
  }

  async housekeeping(now: number, olderThanMs: number): Promise<void> {
    for (const name of await readdir(join(this.root, TMP))) {
      const path = join(this.root, TMP, name);
      try {
        if (now - (await stat(path)).mtimeMs > olderThanMs) await rm(path, { force: true });
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    }
  }
}

async function* walk(dir: string): AsyncIterable<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err) || (err as NodeJS.ErrnoException).code === "ENOTDIR") return;
    throw err;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === "ENOENT";
}
