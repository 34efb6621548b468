// Ships each step's output to `kiln store` beside the build container's log (`kubectl logs` keeps working
// while the pod exists; the store's copy outlives it). The pump's worker thread hands over every chunk it
// copies; one LogAppender per step sends them in order. Back-pressure without blocking the build on an
// outage: while the store keeps up, the worker waits when more than a high-water mark of bytes is
// unacknowledged (a step cannot outrun the store by more than a bounded buffer); while the store fails, or
// acknowledges nothing for the stall time, the worker does not wait, and the appender's bounded buffer drops
// the oldest output with a note in the log. What was buffered is sent when the store is back. The buffers
// of all steps together stay within AGENT_BUFFER_BYTES (earlier steps' logs may still be waiting to go).
import type { BuildRef } from "../api/store-protocol.ts";
import type { Logger } from "../lib/log.ts";
import { type AppenderStats, LogAppender, type StoreClient } from "../lib/store-client.ts";

/** What the agent holds of unsent output, all steps together (its container's memory limit is 256Mi). */
export const AGENT_BUFFER_BYTES = 32 * 1024 * 1024;
/** The store's largest append: a flood goes out in as few requests as it allows. */
const CHUNK_BYTES = 1024 * 1024;
/** The least a step's buffer gets, however much earlier steps still hold. */
const MIN_BUFFER_BYTES = 2 * CHUNK_BYTES;
/** No acknowledgement for this long while the worker waits: the store is not keeping up; stop waiting. */
const STALL_MS = 2000;
/** setTimeout's longest delay (about 24 days): "no deadline". */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

export interface StepLogsOptions {
  /** No acknowledgement for this long while the worker waits: stop waiting (default 2 s). */
  stallMs?: number;
}

/**
 * Shared with the worker thread (a SharedArrayBuffer): [0] bytes handed over and not yet acknowledged or
 * dropped, [1] 1 while the worker should wait above the high-water mark, [2] that mark (half the step's
 * buffer). The worker waits on [0] with Atomics.wait.
 */
export type Pressure = Int32Array;
export const PRESSURE = { inFlight: 0, wait: 1, highWater: 2 } as const;

export function newPressure(highWater: number): Pressure {
  const p = new Int32Array(new SharedArrayBuffer(12));
  p[PRESSURE.wait] = 1;
  p[PRESSURE.highWater] = highWater;
  return p;
}

/** The worker's side: account for `n` bytes handed over, then wait while the store is behind and healthy. */
export function handOver(p: Pressure, n: number): void {
  Atomics.add(p, PRESSURE.inFlight, n);
  const highWater = Atomics.load(p, PRESSURE.highWater);
  for (;;) {
    const inFlight = Atomics.load(p, PRESSURE.inFlight);
    if (inFlight < highWater || Atomics.load(p, PRESSURE.wait) === 0) return;
    // Woken by every acknowledgement and by a change of [1]; the timeout only bounds a lost wake-up.
    Atomics.wait(p, PRESSURE.inFlight, inFlight, 1000);
  }
}

export interface StepLogSink {
  readonly pressure: Pressure;
  write(chunk: Uint8Array): void;
  /** The step's output ended: complete its log (in the background). */
  end(): void;
}

export class StepLogs {
  readonly #client: StoreClient;
  readonly #build: BuildRef;
  readonly #log: Logger;
  readonly #closing: Promise<void>[] = [];

  readonly #stallMs: number;

  constructor(client: StoreClient, build: BuildRef, log: Logger, options: StepLogsOptions = {}) {
    this.#stallMs = options.stallMs ?? STALL_MS;
    this.#client = client;
    this.#build = build;
    this.#log = log;
  }

  /** The sink of the step at `index` of the pipeline (the store lists a Build's steps in that order). */
  open(step: string, index?: number): StepLogSink {
    // What earlier steps' logs still hold counts against this one's buffer.
    let held = 0;
    for (const a of this.#open) held += a.stats.queued;
    const buffer = Math.max(MIN_BUFFER_BYTES, AGENT_BUFFER_BYTES - held);
    const highWater = Math.floor(buffer / 2);
    const pressure = newPressure(highWater);
    let healthy = true;
    let stalled = false;
    let acknowledged = 0;
    const behind = () => Atomics.load(pressure, PRESSURE.inFlight) >= highWater;
    const setWait = () => {
      const wait = healthy && !stalled ? 1 : 0;
      if (Atomics.exchange(pressure, PRESSURE.wait, wait) !== wait)
        Atomics.notify(pressure, PRESSURE.inFlight);
    };
    // A watchdog while the step's output flows: if the worker would be waiting and the store acknowledged
    // nothing for a whole period, stop making it wait (the worker cannot say when it starts to).
    let seen = 0;
    const watchdog = setInterval(() => {
      if (behind() && acknowledged === seen && !stalled) {
        stalled = true;
        this.#log.warn({ step }, "the store acknowledges nothing: the step goes on, its log is buffered");
        setWait();
      }
      seen = acknowledged;
    }, this.#stallMs);
    watchdog.unref();
    const appender = new LogAppender(
      this.#client,
      { ...this.#build, step },
      {
        maxBufferBytes: buffer,
        chunkBytes: CHUNK_BYTES,
        ...(index === undefined ? {} : { index }),
        onConsumed: (bytes, how) => {
          Atomics.sub(pressure, PRESSURE.inFlight, bytes);
          Atomics.notify(pressure, PRESSURE.inFlight);
          if (how !== "sent") return;
          acknowledged++;
          if (stalled) {
            stalled = false;
            setWait();
          }
        },
        onHealth: (ok) => {
          healthy = ok;
          if (!ok) this.#log.warn({ step }, "the store is not taking the log: buffering it");
          else this.#log.info({ step }, "the store takes the log again");
          setWait();
        },
      },
    );
    this.#open.add(appender);
    return {
      pressure,
      write: (chunk) => appender.write(chunk),
      end: () => {
        clearInterval(watchdog);
        this.#closing.push(this.#finish(step, appender, this.#closing.at(-1)));
      },
    };
  }

  async #finish(step: string, appender: LogAppender, previous: Promise<void> | undefined): Promise<void> {
    // Logs are completed in step order: the store lists a Build's steps in the order their logs completed,
    // and that is how they read once the Build (and its list of steps) is gone.
    await previous;
    // No deadline of its own: a step's log waits for the store as long as the agent lives (close cuts it).
    const stats: AppenderStats = await appender.close(LONGEST_TIMER_MS);
    this.#open.delete(appender);
    const fields = { step, sent: stats.sent, dropped: stats.dropped };
    if (stats.refused)
      this.#log.error({ ...fields, reason: stats.refused }, "the store refused the step's log");
    else if (!stats.complete) this.#log.error(fields, "the step's log could not be completed in the store");
    else if (stats.dropped > 0)
      this.#log.warn(fields, "part of the step's log was dropped: the store was away");
  }

  readonly #open = new Set<LogAppender>();

  /**
   * Waits at most `timeoutMs` for every step's log to be complete, then gives up on the rest (and on any
   * step whose output never ended: its pump never settled).
   */
  async close(timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all(this.#closing);
    const late = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (late) for (const a of this.#open) a.abort();
    await all;
    for (const a of this.#open) a.abort();
  }
}
