// Container logs on disk, one file per container instance in the CRI format the kubelet reads
// (`<RFC3339 time> <stdout|stderr> F <line>`), bounded by rotating into one older file, and read
// back with the pods/log options (tailLines, sinceSeconds, timestamps, follow, previous).
import * as fs from "node:fs";
import * as path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";

export interface LogReadOptions {
  follow: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps?: boolean;
  previous?: boolean;
}

interface Entry {
  time: string;
  line: string;
}

const PARTIAL_LIMIT = 16 * 1024;

/** The log of one run of one container. Writes are synchronous so a follower never misses a line. */
export class ContainerLog {
  readonly file: string;
  private fd: number;
  private size = 0;
  private closed = false;
  private readonly partial = { stdout: "", stderr: "" };
  // A UTF-8 character split across two reads is joined, not replaced.
  private readonly decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  private readonly followers = new Set<{ stream: PassThrough; timestamps: boolean }>();
  private readonly maxBytes: number;
  private readonly now: () => Date;

  constructor(file: string, maxBytes: number, now: () => Date = () => new Date()) {
    this.file = file;
    this.maxBytes = maxBytes;
    this.now = now;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, "a");
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(stream: "stdout" | "stderr", chunk: Buffer | string): void {
    if (this.closed) return;
    const decoded = typeof chunk === "string" ? chunk : this.decoders[stream].write(chunk);
    const lines = (this.partial[stream] + decoded).split("\n");
    let rest = lines.pop() ?? "";
    while (rest.length > PARTIAL_LIMIT) {
      lines.push(rest.slice(0, PARTIAL_LIMIT));
      rest = rest.slice(PARTIAL_LIMIT);
    }
    this.partial[stream] = rest;
    this.append(stream, lines);
  }

  /** Flushes unterminated lines and ends every follower. */
  close(): void {
    if (this.closed) return;
    for (const stream of ["stdout", "stderr"] as const) {
      const rest = this.partial[stream] + this.decoders[stream].end();
      if (rest) this.append(stream, [rest]);
      this.partial[stream] = "";
    }
    this.closed = true;
    fs.closeSync(this.fd);
    for (const f of this.followers) f.stream.end();
    this.followers.clear();
  }

  /** The lines of one read: one timestamp and one write (a write per line costs a syscall each). */
  private append(stream: string, lines: string[]): void {
    if (lines.length === 0) return;
    const time = this.now().toISOString();
    let batch = "";
    let batchBytes = 0;
    for (const line of lines) {
      const record = `${time} ${stream} F ${line}\n`;
      const bytes = Buffer.byteLength(record);
      if (this.size + batchBytes + bytes > this.maxBytes && this.size + batchBytes > 0) {
        if (batch) fs.writeSync(this.fd, batch);
        this.size += batchBytes;
        batch = "";
        batchBytes = 0;
        this.rotate();
      }
      batch += record;
      batchBytes += bytes;
    }
    fs.writeSync(this.fd, batch);
    this.size += batchBytes;
    for (const f of this.followers)
      f.stream.write(lines.map((line) => format({ time, line }, f.timestamps)).join(""));
  }

  private rotate(): void {
    fs.closeSync(this.fd);
    fs.renameSync(this.file, `${this.file}.1`);
    this.fd = fs.openSync(this.file, "a");
    this.size = 0;
  }

  entries(): Entry[] {
    const out: Entry[] = [];
    for (const file of [`${this.file}.1`, this.file]) {
      let text: string;
      try {
        text = fs.readFileSync(file, "utf8");
      } catch {
        continue;
      }
      for (const record of text.split("\n")) {
        // `s`: a carriage return (a terminal's line end, a progress bar) is part of the line, as in CRI logs.
        const m = /^(\S+) (?:stdout|stderr) [FP] (.*)$/s.exec(record);
        if (m) out.push({ time: m[1] ?? "", line: m[2] ?? "" });
      }
    }
    return out;
  }

  read(options: LogReadOptions): Readable {
    let entries = this.entries();
    if (options.sinceSeconds !== undefined) {
      const since = this.now().getTime() - options.sinceSeconds * 1000;
      entries = entries.filter((e) => Date.parse(e.time) >= since);
    }
    if (options.tailLines !== undefined)
      entries = options.tailLines > 0 ? entries.slice(-options.tailLines) : [];
    const stream = new PassThrough();
    const timestamps = options.timestamps ?? false;
    stream.write(entries.map((e) => format(e, timestamps)).join(""));
    if (options.follow && !this.closed) {
      const follower = { stream, timestamps };
      this.followers.add(follower);
      stream.on("close", () => this.followers.delete(follower));
    } else {
      stream.end();
    }
    return stream;
  }
}

function format(e: Entry, timestamps: boolean): string {
  return timestamps ? `${e.time} ${e.line}\n` : `${e.line}\n`;
}

/** Every container instance's log, by namespace/pod/container, newest instance last. */
export class LogStore {
  private readonly logs = new Map<string, { uid: string; runs: Map<string, ContainerLog[]> }>();
  private readonly dir: string;
  private readonly maxBytes: number;

  constructor(dir: string, maxBytes = 4 * 1024 * 1024) {
    this.dir = dir;
    this.maxBytes = maxBytes;
  }

  /** Starts the log of a new run of a container. */
  open(namespace: string, pod: string, uid: string, container: string): ContainerLog {
    const key = `${namespace}/${pod}`;
    let entry = this.logs.get(key);
    if (!entry || entry.uid !== uid) {
      if (entry) this.remove(namespace, pod);
      entry = { uid, runs: new Map() };
      this.logs.set(key, entry);
    }
    const runs = entry.runs.get(container) ?? [];
    entry.runs.set(container, runs);
    runs.at(-1)?.close();
    // Keep the current and the previous run only, as the kubelet does.
    while (runs.length > 1) {
      const old = runs.shift();
      if (old) fs.rmSync(old.file, { force: true });
    }
    const file = path.join(
      this.dir,
      `${namespace}_${pod}_${uid}`,
      container,
      `${Date.now()}-${runs.length}.log`,
    );
    const log = new ContainerLog(file, this.maxBytes);
    runs.push(log);
    return log;
  }

  read(namespace: string, pod: string, container: string, options: LogReadOptions): Readable | undefined {
    const runs = this.logs.get(`${namespace}/${pod}`)?.runs.get(container);
    const run = options.previous ? runs?.at(-2) : runs?.at(-1);
    return run?.read(options);
  }

  remove(namespace: string, pod: string): void {
    const entry = this.logs.get(`${namespace}/${pod}`);
    if (!entry) return;
    this.logs.delete(`${namespace}/${pod}`);
    for (const runs of entry.runs.values()) for (const r of runs) r.close();
    fs.rmSync(path.join(this.dir, `${namespace}_${pod}_${entry.uid}`), { recursive: true, force: true });
  }

  closeAll(): void {
    for (const entry of this.logs.values())
      for (const runs of entry.runs.values()) for (const r of runs) r.close();
  }
}
