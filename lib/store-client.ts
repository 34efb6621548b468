// The client of `kiln store` (api/store-protocol.ts, store/README.md), for the agent (shipping logs,
// restoring and saving caches), the CLI and the chat (reading logs). Appends and reads are retried with
// backoff on what is transient (no connection, 429, 5xx); a 409 says where the log really ends, so the
// caller resumes there. Caches go up and down as streams, never held whole. LogAppender ships one step's
// output: writes never wait, a bounded buffer rides out a store outage, and what overflows it is dropped
// oldest first, with a note in the log saying how much.
import { readFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type BuildRef,
  type CacheSaveAnswer,
  cachePath,
  cachesPath,
  type LogAppendAnswer,
  logPath,
  type RepositoryRef,
  STORE_HEADERS,
  type StepLogInfo,
  type StepRef,
  type StepsAnswer,
  stepsPath,
} from "../api/store-protocol.ts";

export interface StoreClientOptions {
  /** Where `kiln store` listens: http(s)://host:port. */
  url: string;
  /** The bearer token, asked for at every request: a projected token file is rotated by the kubelet. */
  token: () => string | Promise<string>;
  /** Further attempts after a transient failure of an append or a read (default 5). */
  retries?: number;
  /** Backoff between attempts: full jitter over baseMs·2^attempt, at most maxMs (default 100 ms, 10 s). */
  backoff?: { baseMs: number; maxMs: number };
  /** How long to wait for an answer's headers (default 30 s). */
  timeoutMs?: number;
  /** CA certificates of an https store. */
  ca?: string;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/**
 * The client of a component that holds a token file for the store (a projected token, audience kiln-store):
 * the file is read at each request, since the kubelet rotates it.
 */
export function storeClientFor(store: { url: string; tokenFile: string }): StoreClient {
  return new StoreClient({
    url: store.url,
    token: () => readFile(store.tokenFile, "utf8").then((t) => t.trim()),
  });
}

/** A request the store refused or could not answer; `transient` when trying again may help. */
export class StoreError extends Error {
  readonly status: number | undefined;
  readonly transient: boolean;

  constructor(message: string, status: number | undefined, transient: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreError";
    this.status = status;
    this.transient = transient;
  }
}

/** 409 to an append: the log ends at `length` (resume there), or is complete. */
export class LogConflictError extends StoreError {
  readonly length: number;
  readonly complete: boolean;

  constructor(message: string, answer: LogAppendAnswer) {
    super(message, 409, false);
    this.name = "LogConflictError";
    this.length = answer.length;
    this.complete = answer.complete;
  }
}

/** Full-jitter exponential backoff: a random wait up to base·2^attempt, capped. */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  return Math.round(random() * Math.min(maxMs, baseMs * 2 ** attempt));
}

export interface LogRead {
  length: number;
  complete: boolean;
  body: Readable;
}

export interface CacheFound {
  key: string;
  branch: string;
  exact: boolean;
  size: number;
}

export interface CacheQuery {
  /** The full key (say npm-<hash of package-lock.json>). */
  key: string;
  /** Fallbacks, in order: the newest cache whose key starts with one (npm-). */
  prefixes?: string[];
  /** Where to look, in order: the build's branch, then the default branch. */
  branches: string[];
}

const TRANSIENT_STATUS = (status: number) => status === 408 || status === 429 || status >= 500;

export class StoreClient {
  readonly #url: URL;
  readonly #o: StoreClientOptions;
  readonly #agent: http.Agent;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: StoreClientOptions) {
    this.#url = new URL(options.url);
    this.#o = options;
    this.#agent =
      this.#url.protocol === "https:"
        ? new https.Agent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) })
        : new http.Agent({ keepAlive: true });
    this.#sleep = options.sleep ?? sleep;
  }

  /** Appends bytes at `offset` (a retry of bytes already stored is harmless); throws LogConflictError on 409. */
  append(
    ref: StepRef,
    offset: number,
    bytes: Uint8Array,
    options: { complete?: boolean; index?: number; signal?: AbortSignal } = {},
  ): Promise<LogAppendAnswer> {
    const query = {
      offset: String(offset),
      ...(options.complete ? { complete: "true" } : {}),
      ...(options.index === undefined ? {} : { index: String(options.index) }),
    };
    return this.#retrying(options.signal, async () => {
      const res = await this.#request("PUT", logPath(ref), {
        query,
        body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        signal: options.signal,
      });
      if (res.statusCode === 409) {
        const answer = (await readJSON(res)) as LogAppendAnswer & { message?: string };
        throw new LogConflictError(answer.message ?? "conflict", answer);
      }
      return (await expectJSON(res, "append")) as LogAppendAnswer;
    });
  }

  /** The step's log from `offset` as it is now, or undefined when the step has no log. */
  readLog(
    ref: StepRef,
    options: { offset?: number; signal?: AbortSignal } = {},
  ): Promise<LogRead | undefined> {
    return this.#retrying(options.signal, async () => {
      const res = await this.#request("GET", logPath(ref), {
        query: { offset: String(options.offset ?? 0) },
        signal: options.signal,
      });
      if (res.statusCode === 404) {
        res.resume();
        return undefined;
      }
      if (res.statusCode !== 200) await fail(res, "read the log");
      return {
        length: Number(res.headers[STORE_HEADERS.logLength]),
        complete: res.headers[STORE_HEADERS.logComplete] === "true",
        body: res,
      };
    });
  }

  /**
   * The step's log from `offset`, live: what is there, then what is appended, until the log is complete
   * (or `signal` aborts). A dropped connection is picked up again where it stopped.
   */
  async *followLog(
    ref: StepRef,
    options: { offset?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<Buffer> {
    let at = options.offset ?? 0;
    let failures = 0;
    let quiet = 0;
    for (;;) {
      let res: http.IncomingMessage;
      try {
        res = await this.#request("GET", logPath(ref), {
          query: { offset: String(at), follow: "true" },
          signal: options.signal,
        });
        if (res.statusCode !== 200) await fail(res, "follow the log");
        const complete = res.headers[STORE_HEADERS.logComplete] === "true";
        const before = at;
        for await (const chunk of res as AsyncIterable<Buffer>) {
          at += chunk.length;
          failures = 0;
          yield chunk;
        }
        if (complete) return;
        // An answer that ended with nothing (a quiet step, a store shutting down): ask again, not at once.
        quiet = at === before ? quiet + 1 : 0;
        if (quiet > 0) await this.#sleep(this.#backoff(Math.min(quiet, 4)), options.signal);
        if (options.signal?.aborted) return;
      } catch (err) {
        if (options.signal?.aborted) return;
        if (!isTransient(err) || failures >= (this.#o.retries ?? 5)) throw err;
        const after = err instanceof RetryAfter ? err.ms : 0;
        await this.#sleep(Math.max(after, this.#backoff(failures++)), options.signal);
      }
    }
  }

  /** The steps of a Build that have a log (none when it has no log at all). */
  async steps(ref: BuildRef, options: { signal?: AbortSignal } = {}): Promise<StepLogInfo[]> {
    return (await this.buildLogs(ref, options))?.steps ?? [];
  }

  /** The Build's logs: its steps and its repository; undefined when it has no log at all. */
  buildLogs(ref: BuildRef, options: { signal?: AbortSignal } = {}): Promise<StepsAnswer | undefined> {
    return this.#retrying(options.signal, async () => {
      const res = await this.#request("GET", stepsPath(ref), { signal: options.signal });
      if (res.statusCode === 404) {
        res.resume();
        return undefined;
      }
      return (await expectJSON(res, "list steps")) as StepsAnswer;
    });
  }

  /**
   * Saves a cache archive from a stream, under the Build's own branch. Not retried: a stream is read once.
   * The body waits for the store to accept the request (Expect: 100-continue), so a refusal costs no upload.
   */
  async saveCache(
    ref: RepositoryRef & { key: string },
    body: Readable,
    options: { signal?: AbortSignal } = {},
  ): Promise<CacheSaveAnswer> {
    const res = await this.#request("PUT", cachePath(ref), { body, signal: options.signal });
    if (res.statusCode !== 201) await fail(res, "save the cache");
    return (await readJSON(res)) as CacheSaveAnswer;
  }

  /** The cache a build gets, streamed (key, branch, whether exact), or undefined for a miss. */
  restoreCache(
    ref: RepositoryRef,
    query: CacheQuery,
    options: { signal?: AbortSignal } = {},
  ): Promise<(CacheFound & { body: Readable }) | undefined> {
    return this.#findCache("GET", ref, query, options.signal) as Promise<
      (CacheFound & { body: Readable }) | undefined
    >;
  }

  /** Which cache a restore would get, without its bytes. */
  lookupCache(
    ref: RepositoryRef,
    query: CacheQuery,
    options: { signal?: AbortSignal } = {},
  ): Promise<CacheFound | undefined> {
    return this.#findCache("HEAD", ref, query, options.signal);
  }

  close(): void {
    this.#agent.destroy();
  }

  #findCache(
    method: "GET" | "HEAD",
    ref: RepositoryRef,
    query: CacheQuery,
    signal: AbortSignal | undefined,
  ): Promise<(CacheFound & { body?: Readable }) | undefined> {
    const params = new URLSearchParams({ key: query.key });
    for (const p of query.prefixes ?? []) params.append("prefix", p);
    for (const b of query.branches) params.append("branch", b);
    return this.#retrying(signal, async () => {
      const res = await this.#request(method, cachesPath(ref), { params, signal });
      if (res.statusCode === 404) {
        res.resume();
        return undefined;
      }
      if (res.statusCode !== 200) await fail(res, "restore the cache");
      const found: CacheFound = {
        key: String(res.headers[STORE_HEADERS.cacheKey]),
        branch: decodeURIComponent(String(res.headers[STORE_HEADERS.cacheBranch])),
        exact: res.headers[STORE_HEADERS.cacheExact] === "true",
        size: Number(res.headers["content-length"]),
      };
      if (method === "HEAD") {
        res.resume();
        return found;
      }
      return { ...found, body: res };
    });
  }

  #backoff(attempt: number): number {
    const { baseMs, maxMs } = this.#o.backoff ?? { baseMs: 100, maxMs: 10_000 };
    return backoffMs(attempt, baseMs, maxMs, this.#o.random);
  }

  async #retrying<T>(signal: AbortSignal | undefined, attempt: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (signal?.aborted || !isTransient(err) || n >= (this.#o.retries ?? 5)) throw err;
        const after = err instanceof RetryAfter ? err.ms : 0;
        await this.#sleep(Math.max(after, this.#backoff(n)), signal);
      }
    }
  }

  async #request(
    method: string,
    path: string,
    options: {
      query?: Record<string, string>;
      params?: URLSearchParams;
      body?: Buffer | Readable;
      signal?: AbortSignal;
    },
  ): Promise<http.IncomingMessage> {
    const url = new URL(path, this.#url);
    url.search = (options.params ?? new URLSearchParams(options.query ?? {})).toString();
    const token = await this.#o.token();
    const headers: http.OutgoingHttpHeaders = { authorization: `Bearer ${token.trim()}` };
    const streamed = options.body instanceof Readable;
    if (Buffer.isBuffer(options.body)) headers["content-length"] = options.body.length;
    if (streamed) headers.expect = "100-continue";
    const transport = url.protocol === "https:" ? https : http;
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = transport.request(url, { method, headers, agent: this.#agent, signal: options.signal });
      // The answer is awaited from when the request is sent whole (an upload may take long itself).
      let timer: NodeJS.Timeout | undefined;
      let answered = false;
      req.once("finish", () => {
        if (answered) return;
        timer = setTimeout(
          () => req.destroy(new StoreError(`${method} ${path}: no answer in time`, undefined, true)),
          this.#o.timeoutMs ?? 30_000,
        );
      });
      req.on("response", (res) => {
        answered = true;
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        if (TRANSIENT_STATUS(status)) {
          const retryAfter = Number(res.headers["retry-after"]);
          res.resume();
          const message = `${method} ${path}: the store answered ${status}`;
          reject(
            Number.isFinite(retryAfter) && retryAfter > 0
              ? new RetryAfter(message, status, retryAfter * 1000)
              : new StoreError(message, status, true),
          );
          return;
        }
        // A refusal before the whole upload was sent: stop sending.
        if (streamed && status >= 400) (options.body as Readable).unpipe(req);
        resolve(res);
      });
      req.once("close", () => clearTimeout(timer));
      req.on("error", (err) =>
        reject(
          err instanceof StoreError
            ? err
            : new StoreError(`${method} ${path}: ${err.message}`, undefined, true, { cause: err }),
        ),
      );
      if (!streamed) {
        req.end(options.body);
        return;
      }
      // Upload once the store says continue (or, from a server that never does, after three seconds).
      let started = false;
      const start = () => {
        if (started) return;
        started = true;
        clearTimeout(fallback);
        pipeline(options.body as Readable, req).catch((err) => req.destroy(err));
      };
      const fallback = setTimeout(start, 3000);
      req.once("continue", start);
      req.once("response", () => clearTimeout(fallback));
    });
  }
}

/** A transient answer that said how long to wait (Retry-After). */
class RetryAfter extends StoreError {
  readonly ms: number;
  constructor(message: string, status: number, ms: number) {
    super(message, status, true);
    this.ms = ms;
  }
}

function isTransient(err: unknown): boolean {
  return err instanceof StoreError ? err.transient : (err as { name?: string }).name !== "AbortError";
}

async function readJSON(res: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > 1_048_576)
      throw new StoreError("the store's answer is larger than 1 MiB", res.statusCode, false);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new StoreError(`the store's answer (${res.statusCode}) is not JSON`, res.statusCode, false);
  }
}

async function expectJSON(res: http.IncomingMessage, what: string): Promise<unknown> {
  if (res.statusCode !== 200 && res.statusCode !== 201) await fail(res, what);
  return readJSON(res);
}

/** Throws the store's refusal as a StoreError, with its message. */
async function fail(res: http.IncomingMessage, what: string): Promise<never> {
  let message = "";
  try {
    message = String(((await readJSON(res)) as { message?: unknown }).message ?? "");
  } catch {
    // not JSON: the status says enough
  }
  throw new StoreError(
    `cannot ${what}: ${res.statusCode}${message ? ` ${message}` : ""}`,
    res.statusCode,
    false,
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

export interface LogAppenderOptions {
  /** The most output held while the store cannot take it (default 8 MiB); beyond, the oldest goes. */
  maxBufferBytes?: number;
  /** The most bytes in one append (default 256 KiB; the store takes up to 1 MiB). */
  chunkBytes?: number;
  /** How long bytes wait to be sent with those that follow them (default 200 ms). */
  flushMs?: number;
  /** The step's place in the pipeline, told the store with the first append (it lists steps so). */
  index?: number;
  /**
   * Called with the number of written bytes that left the buffer for good: acknowledged by the store, or
   * dropped. A producer uses it for back-pressure (its bytes in flight are those written, not consumed).
   */
  onConsumed?: (bytes: number, how: "sent" | "dropped") => void;
  /** Called when the store starts failing (false) and when it takes appends again (true). */
  onHealth?: (healthy: boolean) => void;
}

export interface AppenderStats {
  /** Bytes the store has acknowledged (its length of the log). */
  sent: number;
  /** Output dropped because the buffer was full. */
  dropped: number;
  /** Why the appender gave up early: the store refused the log for good (401, 403, 413 …). */
  refused?: string;
  /** Bytes held, waiting to be sent. */
  queued: number;
  /** The log was completed. */
  complete: boolean;
}

type Appends = Pick<StoreClient, "append">;

/**
 * Ships one step's output to the store as it comes. `write` never waits and never throws; appends go one
 * at a time, retried with backoff however long the store is away, each resuming where the store's log
 * ends (a 409 tells). `close` sends the rest and completes the log, within a deadline.
 */
export class LogAppender {
  readonly #client: Appends;
  readonly #ref: StepRef;
  readonly #max: number;
  readonly #chunk: number;
  readonly #flushMs: number;
  readonly #backoff: (attempt: number) => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #offset = 0;
  #dropped = 0;
  #unnoted = 0;
  #closing = false;
  #complete = false;
  #refused: string | undefined;
  #healthy = true;
  readonly #onConsumed: (bytes: number, how: "sent" | "dropped") => void;
  readonly #index: number | undefined;
  readonly #onHealth: (healthy: boolean) => void;
  #wake: (() => void) | undefined;
  #idle = false;
  readonly #stop = new AbortController();
  readonly #done: Promise<void>;

  constructor(
    client: Appends,
    ref: StepRef,
    options: LogAppenderOptions & {
      backoff?: (attempt: number) => number;
      sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
    } = {},
  ) {
    this.#client = client;
    this.#ref = ref;
    this.#max = options.maxBufferBytes ?? 8 * 1024 * 1024;
    this.#chunk = options.chunkBytes ?? 256 * 1024;
    this.#flushMs = options.flushMs ?? 200;
    this.#backoff = options.backoff ?? ((n) => backoffMs(n, 100, 10_000));
    this.#sleep = options.sleep ?? sleep;
    this.#onConsumed = options.onConsumed ?? (() => undefined);
    this.#index = options.index;
    this.#onHealth = options.onHealth ?? (() => undefined);
    this.#done = this.#run();
  }

  /** Queues `bytes` (kept as they are, not copied: the caller must not change them afterwards). */
  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#closing || this.#refused !== undefined || this.#complete) {
      // Nothing will take them: they are consumed as far as the producer is concerned.
      this.#onConsumed(bytes.length, "dropped");
      return;
    }
    let data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (data.length > this.#max) {
      this.#drop(data.length - this.#max);
      data = data.subarray(data.length - this.#max);
    }
    while (this.#queued + data.length > this.#max) {
      const head = this.#queue[0]!;
      const cut = Math.min(head.length, this.#queued + data.length - this.#max);
      this.#drop(cut);
      if (cut === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(cut);
      this.#queued -= cut;
    }
    this.#queue.push(data);
    this.#queued += data.length;
    if (this.#queued >= this.#chunk || this.#idle) this.#wake?.();
  }

  get stats(): AppenderStats {
    return {
      sent: this.#offset,
      dropped: this.#dropped,
      complete: this.#complete,
      queued: this.#queued,
      ...(this.#refused === undefined ? {} : { refused: this.#refused }),
    };
  }

  /** Sends what is left and completes the log; gives up after `timeoutMs` (the log stays incomplete). */
  async close(timeoutMs = 30_000): Promise<AppenderStats> {
    this.#closing = true;
    this.#wake?.();
    const timer = setTimeout(() => this.#stop.abort(), timeoutMs);
    await this.#done;
    clearTimeout(timer);
    return this.stats;
  }

  /** Stops at once: what is not acknowledged yet is never sent (close then resolves). */
  abort(): void {
    this.#stop.abort();
  }

  #drop(bytes: number): void {
    this.#dropped += bytes;
    this.#unnoted += bytes;
    this.#onConsumed(bytes, "dropped");
  }

  #health(ok: boolean): void {
    if (ok === this.#healthy) return;
    this.#healthy = ok;
    this.#onHealth(ok);
  }

  /** The next chunk to send, and how many of its bytes came from the buffer (not notes). */
  #take(): { chunk: Buffer; taken: number } {
    const parts: Buffer[] = [];
    if (this.#unnoted > 0) {
      parts.push(
        Buffer.from(`\n[kiln: ${this.#unnoted} bytes of output dropped: the store could not take them]\n`),
      );
      this.#unnoted = 0;
    }
    // A note takes room of its own: an append never grows past the chunk size (the store's limit).
    let room = Math.max(1, this.#chunk - (parts[0]?.length ?? 0));
    let taken = 0;
    while (room > 0 && this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const take = Math.min(room, head.length);
      parts.push(head.subarray(0, take));
      if (take === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(take);
      this.#queued -= take;
      room -= take;
      taken += take;
    }
    return { chunk: parts.length === 1 ? parts[0]! : Buffer.concat(parts), taken };
  }

  async #run(): Promise<void> {
    // Bytes of the buffer in the append under way: consumed once it is acknowledged, or never sent.
    let taken = 0;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      if (!this.#closing && this.#queued < this.#chunk) {
        // Wait for a chunk's worth, the flush interval, or close.
        this.#idle = this.#queued === 0;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, this.#idle ? 3_600_000 : this.#flushMs);
          // Nothing to send keeps no process alive; bytes waiting to be sent do.
          if (this.#idle) timer.unref();
          this.#wake = done;
          function done() {
            clearTimeout(timer);
            resolve();
          }
        });
        this.#wake = undefined;
        this.#idle = false;
        if (!this.#closing && this.#queued === 0) continue;
      }
      let chunk: Buffer;
      ({ chunk, taken } = this.#take());
      const last = this.#closing && this.#queued === 0;
      for (let attempt = 0; !signal.aborted; attempt++) {
        try {
          const answer = await this.#client.append(this.#ref, this.#offset, chunk, {
            complete: last,
            signal,
            ...(this.#offset === 0 && this.#index !== undefined ? { index: this.#index } : {}),
          });
          this.#offset = answer.length;
          this.#complete = answer.complete;
          this.#onConsumed(taken, "sent");
          taken = 0;
          this.#health(true);
          break;
        } catch (err) {
          if (err instanceof LogConflictError) {
            if (err.complete) {
              this.#complete = true;
              this.#onConsumed(taken + this.#queued, "dropped");
              return;
            }
            if (err.length < this.#offset) {
              // The store lost bytes it had acknowledged: they are gone from here too. Say so and go on.
              const lost = Buffer.from(
                `\n[kiln: ${this.#offset - err.length} bytes of output lost by the store]\n`,
              );
              chunk = Buffer.concat([lost, chunk]);
            } else {
              // It holds more than this appender knows of (not ours to resend): carry on after it.
              chunk = chunk.subarray(Math.min(chunk.length, err.length - this.#offset));
            }
            this.#offset = err.length;
            continue;
          }
          if (err instanceof StoreError && !err.transient) {
            // Refused for good (a token the store does not accept, a log it will not take): trying again
            // changes nothing, and what is buffered cannot be sent.
            this.#refused = err.message;
            this.#onConsumed(taken + this.#queued, "dropped");
            this.#queue.length = 0;
            this.#queued = 0;
            return;
          }
          this.#health(false);
          await this.#sleep(this.#backoff(attempt), signal);
        }
      }
      if (last || this.#complete) return;
    }
    // Out of time (close's deadline): what is left, and the chunk that was being sent, never will be.
    this.#onConsumed(this.#queued + taken, "dropped");
  }
}
