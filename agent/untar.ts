// Extracts a tar stream where a caller says, and nowhere else: a cache restore's extraction. Written for
// it because npm tar's extraction ran at a third of GNU tar's speed (bench/README.md, Store): here a
// file's bytes go from the stream's buffers straight to its file, no stream per entry.
//
// Reads ustar and pax (path, linkpath, size, mtime) and GNU long names; makes regular files, directories,
// symbolic and hard links; skips devices, FIFOs and anything else. Each entry's place is the caller's
// choice (`place`: an absolute path, or undefined to skip it); nothing is written through a symbolic link
// the archive made, an entry whose name was made before replaces it (as tar does), and modes are set
// explicitly (no umask; no setuid, setgid or sticky bits) on what the extraction makes — a directory that
// was there (the cache path's mount point) keeps its own. Owners are not restored: files are the
// extracting user's. File calls are synchronous: no thread-pool round trip each (twice as fast here), in
// a worker thread of their own (UntarWorker, below).
import {
  chmodSync,
  closeSync,
  fchmodSync,
  futimesSync,
  linkSync,
  mkdirSync,
  openSync,
  rmSync,
  statSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import { dirname, posix } from "node:path";
import { Writable } from "node:stream";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

export type EntryType = "file" | "directory" | "symlink" | "link";

export interface TarEntry {
  /** The name in the archive, without a trailing slash. */
  name: string;
  type: EntryType;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  size: number;
  linkname?: string;
}

export interface UntarOptions {
  /** Where an entry (or a hard link's target name) goes: an absolute path, or undefined to leave it out. */
  place(name: string): string | undefined;
  /** The mode to give an entry (default: its own, without setuid, setgid, sticky). */
  mode?(entry: TarEntry): number;
}

const BLOCK = 512;
/** Bounds of what is held in memory: a pax or GNU long-name record. */
const MAX_META = 1024 * 1024;
const TYPES: Record<string, EntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "link",
  "2": "symlink",
  "5": "directory",
};

function text(block: Buffer, start: number, length: number): string {
  const end = block.indexOf(0, start);
  return block.toString("utf8", start, end === -1 || end > start + length ? start + length : end);
}

function octal(block: Buffer, start: number, length: number): number {
  // GNU base-256 for large values: the high bit of the first byte set.
  if (block[start]! & 0x80) {
    let n = block[start]! & 0x7f;
    for (let i = 1; i < length; i++) n = n * 256 + block[start + i]!;
    return n;
  }
  const digits = text(block, start, length).trim();
  return digits === "" ? 0 : Number.parseInt(digits, 8);
}

function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum === octal(block, 148, 8);
}

/** pax records: `<length> <key>=<value>\n`, each. */
export function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number(data.toString("latin1", at, space));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) break;
    const record = data.toString("utf8", space + 1, at + length - 1);
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}

export class Untar extends Writable {
  readonly #o: UntarOptions;
  #header: Buffer = Buffer.alloc(0);
  /** Bytes of the current entry's data still to come, and padding after it. */
  #remaining = 0;
  #padding = 0;
  /** The file being written: a descriptor. */
  #file: number | undefined;
  #fileEntry: { entry: TarEntry; target: string } | undefined;
  #meta: { kind: "pax" | "global" | "longName" | "longLink"; chunks: Buffer[] } | undefined;
  /** The current entry's data size (for its padding). */
  #size = 0;
  #pax: Record<string, string> = {};
  #longName: string | undefined;
  #longLink: string | undefined;
  #ended = false;
  readonly #dirs = new Set<string>();
  /** Directories this extraction made (the others, such as a mount point, keep their modes). */
  readonly #ours = new Set<string>();
  /** Names the archive made links of (nothing goes through them) and names it made at all. */
  readonly #links = new Set<string>();
  readonly #made = new Set<string>();
  /** Entries left out, and why (counted by reason). */
  readonly skipped = new Map<string, number>();

  constructor(options: UntarOptions) {
    super({ highWaterMark: 1 << 20 });
    this.#o = options;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#consume(chunk).then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    const finish = async () => {
      if (this.#remaining > 0 || this.#meta || (!this.#ended && this.#header.length > 0))
        throw new Error("the archive ends in the middle of an entry");
      await this.#closeFile();
    };
    finish().then(() => done(), done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (this.#file !== undefined) closeSync(this.#file);
    this.#file = undefined;
    done(error);
  }

  #skip(reason: string): void {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
  }

  async #consume(chunk: Buffer): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      if (this.#remaining > 0) {
        const n = Math.min(this.#remaining, chunk.length - at);
        await this.#data(chunk.subarray(at, at + n));
        at += n;
        this.#remaining -= n;
        if (this.#remaining === 0) await this.#endData();
        continue;
      }
      if (this.#padding > 0) {
        const n = Math.min(this.#padding, chunk.length - at);
        at += n;
        this.#padding -= n;
        continue;
      }
      if (this.#ended) return; // the end-of-archive blocks and whatever pads the record
      const need = BLOCK - this.#header.length;
      const piece = chunk.subarray(at, at + need);
      at += piece.length;
      this.#header =
        this.#header.length === 0 && piece.length === BLOCK ? piece : Buffer.concat([this.#header, piece]);
      if (this.#header.length === BLOCK) {
        const block = this.#header;
        this.#header = Buffer.alloc(0);
        await this.#onHeader(block);
      }
    }
  }

  async #data(bytes: Buffer): Promise<void> {
    if (this.#meta) {
      this.#meta.chunks.push(Buffer.from(bytes));
      return;
    }
    if (this.#file === undefined) return; // a skipped file's bytes
    let written = 0;
    while (written < bytes.length) written += writeSync(this.#file, bytes, written);
  }

  async #endData(): Promise<void> {
    this.#padding = (BLOCK - (this.#size % BLOCK)) % BLOCK;
    if (this.#meta) {
      const data = Buffer.concat(this.#meta.chunks);
      if (this.#meta.kind === "pax") Object.assign(this.#pax, parsePax(data));
      else if (this.#meta.kind === "global") this.#skip("global header");
      else if (this.#meta.kind === "longName") this.#longName = text(data, 0, data.length);
      else this.#longLink = text(data, 0, data.length);
      this.#meta = undefined;
      return;
    }
    await this.#closeFile();
  }

  async #closeFile(): Promise<void> {
    const file = this.#file;
    const current = this.#fileEntry;
    this.#file = undefined;
    this.#fileEntry = undefined;
    if (file === undefined || !current) return;
    try {
      fchmodSync(file, this.#mode(current.entry));
      futimesSync(file, current.entry.mtime, current.entry.mtime);
    } finally {
      closeSync(file);
    }
  }

  #mode(entry: TarEntry): number {
    return this.#o.mode ? this.#o.mode(entry) : entry.mode & 0o777;
  }

  async #onHeader(block: Buffer): Promise<void> {
    if (block.every((b) => b === 0)) {
      this.#ended = true;
      return;
    }
    if (!checksumOk(block)) throw new Error("not a tar archive (a header's checksum is wrong)");
    const flag = String.fromCharCode(block[156]!);
    const size = octal(block, 124, 12);
    this.#size = size;
    this.#remaining = size;
    this.#padding = 0;
    const meta = ({ x: "pax", g: "global", L: "longName", K: "longLink" } as const)[flag as "x"];
    if (meta) {
      // A global pax header changes nothing about where or what entries are: read and dropped.
      if (size > MAX_META) throw new Error(`an archive's ${flag} record of ${size} bytes is too large`);
      this.#meta = { kind: meta, chunks: [] };
      if (size === 0) await this.#endData();
      return;
    }
    const pax = this.#pax;
    this.#pax = {};
    const prefix = block.subarray(257, 262).toString("latin1") === "ustar" ? text(block, 345, 155) : "";
    const ustarName = prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100);
    const name = plain(pax.path ?? this.#longName ?? ustarName);
    const linkname = pax.linkpath ?? this.#longLink ?? text(block, 157, 100);
    this.#longName = undefined;
    this.#longLink = undefined;
    if (pax.size !== undefined) {
      this.#size = Number(pax.size);
      this.#remaining = this.#size;
    }
    const type = TYPES[flag];
    const entry: TarEntry = {
      name,
      type: type ?? "file",
      mode: octal(block, 100, 8),
      mtime: pax.mtime !== undefined ? Number(pax.mtime) : octal(block, 136, 12),
      size: type === "file" ? this.#size : 0,
      ...(type === "link" || type === "symlink" ? { linkname } : {}),
    };
    if (!type) return this.#skip(`type ${JSON.stringify(flag)}`);
    const target = this.#target(name);
    if (!target) return;
    // What the archive made under this name before is replaced (a directory stays, unless it was a link).
    if (this.#made.has(name) && (type !== "directory" || this.#links.has(name))) {
      rmSync(target, { recursive: true, force: true });
      this.#links.delete(name);
    }
    this.#made.add(name);
    switch (type) {
      case "directory":
        await this.#mkdirp(target, this.#mode(entry));
        return;
      case "file":
        await this.#mkdirp(dirname(target));
        this.#file = openSync(target, "w", 0o600);
        this.#fileEntry = { entry, target };
        if (this.#remaining === 0) await this.#endData();
        return;
      case "symlink":
        await this.#mkdirp(dirname(target));
        symlinkSync(linkname, target);
        this.#links.add(name);
        return;
      case "link": {
        const existing = this.#target(plain(linkname));
        if (!existing) return this.#skip("hard link to a path left out");
        await this.#mkdirp(dirname(target));
        linkSync(existing, target);
        return;
      }
    }
  }

  /** Where an entry goes, unless it is left out: a name that climbs, goes through a link, or has no place. */
  #target(name: string): string | undefined {
    if (name === "" || name.split("/").includes("..")) {
      this.#skip("name with ..");
      return undefined;
    }
    // The links and made entries are keyed by name: "a//l" or "a/./l" must not pass as other than "a/l".
    if (posix.normalize(name) !== name) {
      this.#skip("name not in normal form");
      return undefined;
    }
    for (let i = name.indexOf("/"); i !== -1; i = name.indexOf("/", i + 1)) {
      if (this.#links.has(name.slice(0, i))) {
        this.#skip("through a symbolic link");
        return undefined;
      }
    }
    const target = this.#o.place(name);
    if (target === undefined) this.#skip("not a path of this cache");
    return target;
  }

  /** A directory and its parents; `mode` is given only to one this extraction made (not a mount point). */
  async #mkdirp(dir: string, mode?: number): Promise<void> {
    if (!this.#dirs.has(dir)) {
      const first = mkdirSync(dir, { recursive: true });
      this.#dirs.add(dir);
      if (first !== undefined) for (let d = dir; d.length >= first.length; d = dirname(d)) this.#ours.add(d);
    }
    // setgid that mkdir gave it under a setgid parent (the pod's volumes) is kept: files in it stay the fsGroup's.
    if (mode !== undefined && this.#ours.has(dir)) chmodSync(dir, mode | (statSync(dir).mode & 0o2000));
  }
}

// --- the same in a worker thread --------------------------------------------------------------------
// Extraction is mostly file-system calls that block (creating 2,000 files is most of a node_modules
// restore); in a worker they leave the agent's thread free to read the store's answer and decompress it
// meanwhile, as `tar --zstd -x` runs zstd and tar side by side.

/** A cache path's archive name, where it goes (absolute), and who may change what it holds (group). */
export interface Place {
  name: string;
  dir: string;
  share?: Share;
}

/** The place an archive name is in (it is the place's name or under it), or undefined. Pure. */
export function placeFor(places: readonly Place[], name: string): Place | undefined {
  return places.find((p) => name === p.name || name.startsWith(`${p.name}/`));
}

/** Where an archive name goes among `places`, or undefined. Pure. */
export function placeOf(places: readonly Place[], name: string): string | undefined {
  const p = placeFor(places, name);
  return p && p.dir + name.slice(p.name.length);
}

/** Owner's bits for the group too (the pod's fsGroup shares the files with the build's user). Pure. */
export function groupLikeOwner(entry: TarEntry): number {
  const mode = entry.mode & 0o777;
  return mode | ((mode & 0o700) >> 3);
}

/** Owner's bits for everyone (`kiln run --image`: the container's user shares no group with ours). Pure. */
export function allLikeOwner(entry: TarEntry): number {
  const mode = entry.mode & 0o777;
  return mode | ((mode & 0o700) >> 3) | ((mode & 0o700) >> 6);
}

/** Who besides the extracting user may change what is extracted: its group, or everyone. */
export type Share = "group" | "everyone";

/** How many bytes may be on their way to the worker before writes wait, and how many go in one message. */
const IN_FLIGHT = 8 * 1024 * 1024;
const BATCH = 1024 * 1024;

/** A Writable whose bytes a worker thread extracts into `places` (modes: by each place's `share`). */
export class UntarWorker extends Writable {
  readonly #worker: Worker;
  #inFlight = 0;
  #batch = Buffer.allocUnsafeSlow(BATCH);
  #fill = 0;
  #waiting: (() => void) | undefined;
  #finished: ((error?: Error) => void) | undefined;
  #failure: Error | undefined;
  skipped = new Map<string, number>();

  constructor(places: readonly Place[]) {
    super({ highWaterMark: 1 << 20 });
    this.#worker = new Worker(new URL(import.meta.url), { workerData: { untar: places } });
    this.#worker.on("message", (m: { acked?: number; done?: [string, number][]; error?: string }) => {
      if (m.acked !== undefined) {
        this.#inFlight -= m.acked;
        const w = this.#waiting;
        this.#waiting = undefined;
        w?.();
      }
      if (m.error !== undefined) this.#fail(new Error(m.error));
      if (m.done && !this.#failure) {
        this.skipped = new Map(m.done);
        this.#finish();
      }
    });
    this.#worker.on("error", (error) => this.#fail(error));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.();
    this.#finish(error);
  }

  #finish(error?: Error): void {
    const f = this.#finished;
    this.#finished = undefined;
    f?.(error);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.#failure) {
      done(this.#failure);
      return;
    }
    // Batched into 1 MiB messages: a socket's chunks are often a few KiB, and a message per chunk (with
    // its acknowledgement) cost more than the copy into a batch.
    let at = 0;
    while (at < chunk.length) {
      const n = chunk.copy(this.#batch, this.#fill, at);
      this.#fill += n;
      at += n;
      if (this.#fill === BATCH) this.#send();
    }
    if (this.#inFlight < IN_FLIGHT) done();
    else this.#waiting = () => done(this.#failure);
  }

  /** Hands the batch over (not cloned) and starts another. */
  #send(): void {
    if (this.#fill === 0) return;
    const bytes = this.#batch.subarray(0, this.#fill);
    this.#inFlight += bytes.length;
    this.#worker.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
    this.#batch = Buffer.allocUnsafeSlow(BATCH);
    this.#fill = 0;
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.#failure) {
      done(this.#failure);
      return;
    }
    this.#send();
    this.#finished = (error) => done(error);
    this.#worker.postMessage("end");
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#worker.terminate().then(
      () => done(error),
      () => done(error),
    );
  }
}

if (!isMainThread && parentPort && (workerData as { untar?: Place[] } | undefined)?.untar) {
  const port = parentPort;
  const places = (workerData as { untar: Place[] }).untar;
  const mode = (entry: TarEntry) =>
    (placeFor(places, entry.name)?.share === "everyone" ? allLikeOwner : groupLikeOwner)(entry);
  const untar = new Untar({ place: (name) => placeOf(places, name), mode });
  let over = false;
  const finish = (error?: Error | null) => {
    if (over) return;
    over = true;
    port.postMessage(error ? { error: error.message } : { done: [...untar.skipped] });
    port.close();
  };
  untar.on("error", finish);
  port.on("message", (m: Uint8Array | "end") => {
    if (m === "end") {
      untar.end(finish);
      return;
    }
    const bytes = Buffer.from(m.buffer, m.byteOffset, m.byteLength);
    untar.write(bytes, () => port.postMessage({ acked: bytes.length }));
  });
}

/** An entry's name without leading "/" or "./" and trailing "/", so one path has one name. */
const plain = (name: string) => name.replace(/^(?:\.?\/)+/, "").replace(/\/+$/, "");
