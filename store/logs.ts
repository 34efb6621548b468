// Build logs over a backend: each append of a step's output is one chunk blob named by its byte range
// (log-chunks.ts decides what an append does); completing the log writes it whole as one `data` blob and
// drops the chunks, so a finished log is one object to read, range and expire. Appends to one step are
// serialised in this process; replicas sharing a backend stay correct because chunk names never collide
// and a replica re-reads the step before it refuses a gap or completes a log.
import { EventEmitter } from "node:events";
import { Readable } from "node:stream";
import type {
  BuildLogRecord,
  BuildRef,
  LogAppendAnswer,
  StepLogInfo,
  StepRef,
} from "../api/store-protocol.ts";
import type { Backend } from "./backend.ts";
import {
  buildLogPrefix,
  buildRecordKey,
  DATA,
  indexFile,
  parseIndexFile,
  parseLogKey,
  RECORD_STEP,
  stepLogPrefix,
} from "./keys.ts";
import {
  type Chunk,
  chunkName,
  contiguousLength,
  decideAppend,
  parseChunkName,
  readPlan,
} from "./log-chunks.ts";

export type LogRefusalKind = "gap" | "conflict" | "too-large" | "past-end";

/** An append or read the log cannot take: the HTTP layer answers 409, 413 or 416 with the length. */
export class LogRefusal extends Error {
  readonly kind: LogRefusalKind;
  readonly length: number;
  readonly complete: boolean;

  constructor(kind: LogRefusalKind, message: string, state: { length: number; complete: boolean }) {
    super(message);
    this.name = "LogRefusal";
    this.kind = kind;
    this.length = state.length;
    this.complete = state.complete;
  }
}

interface StoredChunk extends Chunk {
  key: string;
}

interface StepState {
  chunks: StoredChunk[];
  length: number;
  complete: boolean;
  loadedAt: number;
}

export interface LogStoreOptions {
  /** The most one step's log may hold. */
  maxLogBytes: number;
  /** How often a follower looks for bytes another replica appended (a shared backend), ms. */
  pollMs: number;
  now?: () => number;
}

const MAX_STATES = 10_000;

/** A chunk listed but gone when read: completion compacted it into `data` meanwhile. */
class ChunkGone extends Error {}

export class LogStore {
  readonly #backend: Backend;
  readonly #options: LogStoreOptions;
  readonly #now: () => number;
  readonly #states = new Map<string, StepState>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #changes = new EventEmitter();

  constructor(backend: Backend, options: LogStoreOptions) {
    this.#backend = backend;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#changes.setMaxListeners(0);
  }

  /** Appends `body` at `offset` (and completes the log when `complete`); throws LogRefusal. */
  append(
    ref: StepRef,
    offset: number,
    body: Buffer,
    complete: boolean,
    index?: number,
  ): Promise<LogAppendAnswer> {
    return this.#locked(ref, async () => {
      // The step's place in the pipeline, with its first append (a retry writes the same empty file again).
      if (index !== undefined && offset === 0)
        await this.#backend.put(`${stepLogPrefix(ref)}${indexFile(index)}`, Buffer.alloc(0));
      let state = (await this.#state(ref)) ?? this.#empty();
      const request = { offset, size: body.length, complete };
      let decision = decideAppend(state, request, this.#options.maxLogBytes);
      if (decision.kind === "gap" && this.#backend.shared) {
        // Another replica may have stored what this one has not seen.
        state = (await this.#state(ref, true)) ?? state;
        decision = decideAppend(state, request, this.#options.maxLogBytes);
      }
      switch (decision.kind) {
        case "gap":
          throw new LogRefusal("gap", `the log has ${state.length} bytes; resend from there`, state);
        case "conflict":
          throw new LogRefusal("conflict", decision.why, state);
        case "too-large":
          throw new LogRefusal("too-large", `a step's log may hold at most ${decision.limit} bytes`, state);
        case "store": {
          const chunk = { start: offset + decision.from, end: offset + body.length };
          const key = `${stepLogPrefix(ref)}${chunkName(chunk)}`;
          await this.#backend.put(key, body.subarray(decision.from));
          state.chunks.push({ ...chunk, key });
          state.length = contiguousLength(state.chunks);
          this.#remember(ref, state);
          break;
        }
        case "stored":
          break;
      }
      if (decision.complete) state = await this.#complete(ref, state);
      this.#changes.emit(stepLogPrefix(ref));
      return { length: state.length, complete: state.complete };
    });
  }

  /** The step's log from `offset` to its length now, or undefined when the step has no log. */
  async read(
    ref: StepRef,
    offset: number,
  ): Promise<{ length: number; complete: boolean; body: Readable } | undefined> {
    const state = await this.#state(ref, this.#backend.shared);
    if (!state) return undefined;
    if (offset > state.length) {
      throw new LogRefusal(
        "past-end",
        `the log has ${state.length} bytes, fewer than the offset ${offset}`,
        state,
      );
    }
    return {
      length: state.length,
      complete: state.complete,
      body: Readable.from(this.#bytes(ref, state, offset, state.length), { objectMode: false }),
    };
  }

  /** Length and completeness now, or undefined when the step has no log yet. */
  async stat(ref: StepRef): Promise<LogAppendAnswer | undefined> {
    const state = await this.#state(ref, this.#backend.shared);
    return state && { length: state.length, complete: state.complete };
  }

  /**
   * The step's log from `offset` as it grows, waiting for appends (a step with no log yet is waited for
   * too), until it is complete or `signal` aborts.
   */
  async *follow(ref: StepRef, offset: number, signal: AbortSignal): AsyncGenerator<Buffer> {
    let at = offset;
    while (!signal.aborted) {
      const changed = this.#nextChange(ref, signal);
      try {
        const state = await this.#state(ref, this.#backend.shared);
        if (state && at > state.length && state.complete) {
          throw new LogRefusal(
            "past-end",
            `the log has ${state.length} bytes, fewer than the offset ${at}`,
            state,
          );
        }
        if (state && at < state.length) {
          for await (const bytes of this.#bytes(ref, state, at, state.length)) {
            at += bytes.length;
            yield bytes;
          }
          continue;
        }
        if (state?.complete) return;
        await changed.promise;
      } finally {
        changed.cancel();
      }
    }
  }

  /** The steps of a Build that have a log, in the order they began. */
  async steps(ref: BuildRef): Promise<StepLogInfo[]> {
    const byStep = new Map<
      string,
      { chunks: Chunk[]; data?: number; index?: number; created: number; updated: number }
    >();
    for await (const blob of this.#backend.list(buildLogPrefix(ref))) {
      const parsed = parseLogKey(blob.key);
      if (!parsed || parsed.step === RECORD_STEP) continue;
      const entry = byStep.get(parsed.step) ?? { chunks: [], created: blob.modified, updated: blob.modified };
      entry.created = Math.min(entry.created, blob.modified);
      entry.updated = Math.max(entry.updated, blob.modified);
      if (parsed.file === DATA) entry.data = blob.size;
      const index = parseIndexFile(parsed.file);
      if (index !== undefined) entry.index = index;
      const chunk = parseChunkName(parsed.file);
      if (chunk) entry.chunks.push(chunk);
      byStep.set(parsed.step, entry);
    }
    return [...byStep]
      .map(([step, e]) => ({
        step,
        ...(e.index === undefined ? {} : { index: e.index }),
        length: e.data ?? contiguousLength(e.chunks),
        complete: e.data !== undefined,
        created: new Date(e.created).toISOString(),
        updated: new Date(e.updated).toISOString(),
      }))
      .sort((a, b) => {
        // The pipeline's order where the agent said it; else the order the logs were written.
        if (a.index !== undefined && b.index !== undefined && a.index !== b.index) return a.index - b.index;
        return a.created < b.created ? -1 : a.created > b.created ? 1 : a.step < b.step ? -1 : 1;
      });
  }

  /**
   * Records whose the Build's logs are (its repository), once: so they can be told apart after the Build
   * is gone (the chat shows a log only to the chats of its repository).
   */
  async record(ref: BuildRef, record: BuildLogRecord): Promise<void> {
    const key = buildRecordKey(ref);
    if (this.#recorded.has(key)) return;
    if (!(await this.#backend.stat(key))) await this.#backend.put(key, Buffer.from(JSON.stringify(record)));
    this.#recorded.add(key);
  }

  /** The Build's record, if its logs have one. */
  async recordOf(ref: BuildRef): Promise<BuildLogRecord | undefined> {
    const body = await this.#backend.get(buildRecordKey(ref));
    if (!body) return undefined;
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
    try {
      const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Partial<BuildLogRecord>;
      return typeof parsed.repository === "string" ? { repository: parsed.repository } : undefined;
    } catch {
      return undefined;
    }
  }

  readonly #recorded = new Set<string>();

  /** Forgets what this process remembers of a Build's logs (after a sweep deleted them). */
  forget(ref: BuildRef): void {
    this.#recorded.delete(buildRecordKey(ref));
    const prefix = buildLogPrefix(ref);
    for (const id of this.#states.keys()) if (id.startsWith(prefix)) this.#states.delete(id);
  }

  #empty(): StepState {
    return { chunks: [], length: 0, complete: false, loadedAt: this.#now() };
  }

  async #complete(ref: StepRef, state: StepState): Promise<StepState> {
    // On a shared backend another replica may hold chunks this one has not listed: compact what is there.
    let current = state;
    if (this.#backend.shared) current = (await this.#load(ref)) ?? state;
    if (current.complete) return current;
    const dataKey = `${stepLogPrefix(ref)}${DATA}`;
    const length = current.length;
    await this.#backend.put(
      dataKey,
      length === 0
        ? Buffer.alloc(0)
        : Readable.from(this.#bytes(ref, current, 0, length), { objectMode: false }),
    );
    await this.#backend.delete(current.chunks.map((c) => c.key));
    const done: StepState = { chunks: [], length, complete: true, loadedAt: this.#now() };
    this.#remember(ref, done);
    return done;
  }

  async *#bytes(ref: StepRef, state: StepState, from: number, to: number): AsyncGenerator<Buffer> {
    let at = from;
    let current = state;
    for (let attempt = 0; at < to; attempt++) {
      try {
        if (current.complete) {
          yield* this.#range(`${stepLogPrefix(ref)}${DATA}`, at, to - at, (n) => {
            at += n;
          });
          return;
        }
        for (const piece of readPlan(current.chunks, at, to)) {
          yield* this.#range(piece.chunk.key, piece.skip, piece.take, (n) => {
            at += n;
          });
        }
        if (at < to) throw new ChunkGone();
      } catch (err) {
        if (!(err instanceof ChunkGone) || attempt > 2) throw err;
        // Compacted meanwhile: read on from the whole log.
        current = (await this.#load(ref)) ?? current;
      }
    }
  }

  async *#range(
    key: string,
    start: number,
    take: number,
    advanced: (n: number) => void,
  ): AsyncGenerator<Buffer> {
    const stream = await this.#backend.get(key, start);
    if (!stream) throw new ChunkGone();
    let left = take;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        const bytes = chunk.length > left ? chunk.subarray(0, left) : chunk;
        left -= bytes.length;
        advanced(bytes.length);
        yield bytes;
        if (left === 0) break;
      }
    } finally {
      stream.destroy();
    }
    if (left > 0) throw new ChunkGone();
  }

  async #state(ref: StepRef, fresh = false): Promise<StepState | undefined> {
    const id = stepLogPrefix(ref);
    const known = this.#states.get(id);
    if (known && !(fresh && this.#now() - known.loadedAt >= this.#options.pollMs / 2)) return known;
    const loaded = await this.#load(ref);
    if (loaded) this.#remember(ref, loaded);
    return loaded;
  }

  async #load(ref: StepRef): Promise<StepState | undefined> {
    const prefix = stepLogPrefix(ref);
    const chunks: StoredChunk[] = [];
    let data: number | undefined;
    for await (const blob of this.#backend.list(prefix)) {
      const name = blob.key.slice(prefix.length);
      if (name === DATA) data = blob.size;
      const chunk = parseChunkName(name);
      if (chunk) chunks.push({ ...chunk, key: blob.key });
    }
    const loadedAt = this.#now();
    if (data !== undefined) {
      // Chunks beside `data`: a completion was interrupted after writing it. They are no longer needed.
      if (chunks.length > 0) await this.#backend.delete(chunks.map((c) => c.key)).catch(() => {});
      return { chunks: [], length: data, complete: true, loadedAt };
    }
    if (chunks.length === 0) return undefined;
    return { chunks, length: contiguousLength(chunks), complete: false, loadedAt };
  }

  #remember(ref: StepRef, state: StepState): void {
    const id = stepLogPrefix(ref);
    this.#states.delete(id);
    this.#states.set(id, state);
    if (this.#states.size > MAX_STATES) this.#states.delete(this.#states.keys().next().value!);
  }

  /** Resolves on the next append to the step here, after the poll interval, or when `signal` aborts. */
  #nextChange(ref: StepRef, signal: AbortSignal): { promise: Promise<void>; cancel(): void } {
    const id = stepLogPrefix(ref);
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = setTimeout(() => resolve(), this.#options.pollMs);
    const wake = () => resolve();
    this.#changes.once(id, wake);
    signal.addEventListener("abort", wake, { once: true });
    return {
      promise,
      cancel: () => {
        clearTimeout(timer);
        this.#changes.off(id, wake);
        signal.removeEventListener("abort", wake);
      },
    };
  }

  #locked<T>(ref: StepRef, work: () => Promise<T>): Promise<T> {
    const id = stepLogPrefix(ref);
    const before = this.#locks.get(id) ?? Promise.resolve();
    const result = before.then(work, work);
    const settled = result.then(
      () => {},
      () => {},
    );
    this.#locks.set(id, settled);
    void settled.then(() => {
      if (this.#locks.get(id) === settled) this.#locks.delete(id);
    });
    return result;
  }
}
