// Copies each step's output from the `out` FIFO to the `echo` FIFO (the build container's log) on a
// worker thread with plain blocking reads and writes into one reused buffer: no stream machinery and
// no allocation per chunk, so the copy runs near pipe speed and memory stays flat. It keeps a bounded
// tail of each step's output for the step record. Secret values are masked on the worker right after
// each read (mask.ts), so everything downstream of the read sees masked bytes only: the build log, the
// tail, and, when the build has a store, the chunks handed to the main thread for shipping (step-logs.ts;
// the worker waits while the store is behind).
import { closeSync, constants, openSync, readSync, writeSync } from "node:fs";
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { Masker, type SecretValue } from "./mask.ts";
import { Tail } from "./output.ts";
import { handOver, type Pressure } from "./step-logs.ts";

type PumpRequest =
  | { id: number; out: string; header: string; secrets: readonly SecretValue[]; pressure?: Pressure }
  | { id: number; close: true };
interface PumpResult {
  id: number;
  tail: string;
  bytes: number;
}
/** A copied chunk for the step's shipping sink (its buffer is transferred, not copied again). */
interface PumpChunk {
  id: number;
  chunk: Uint8Array;
}

/** Where a step's output goes besides the build log. */
export interface PumpSink {
  pressure: Pressure;
  write(chunk: Uint8Array): void;
}

/** The main thread's handle: one worker for the agent's lifetime, one request per step. */
export class OutputPump {
  readonly #worker: Worker;
  readonly #pending = new Map<number, (r: PumpResult) => void>();
  readonly #sinks = new Map<number, PumpSink>();
  #next = 0;
  #closed = false;

  constructor(echoPath: string) {
    this.#worker = new Worker(new URL(import.meta.url), { workerData: { echoPath } });
    // Never what keeps the agent alive: a pump blocked on a dead step must not hold up the exit.
    this.#worker.unref();
    this.#worker.on("message", (m: PumpResult | PumpChunk) => {
      if ("chunk" in m) {
        this.#sinks.get(m.id)?.write(m.chunk);
        return;
      }
      this.#sinks.delete(m.id);
      this.#pending.get(m.id)?.(m);
      this.#pending.delete(m.id);
    });
  }

  /**
   * Starts copying the FIFO at `outPath` (after `header`) until its end of file, masking `secrets`, each
   * chunk also to `sink` when given. Resolves with the tail once every writer closed it (and every chunk
   * went to the sink).
   */
  pump(
    outPath: string,
    header: string,
    options: { secrets?: readonly SecretValue[]; sink?: PumpSink } = {},
  ): Promise<{ tail: string; bytes: number }> {
    const id = this.#next++;
    const sink = options.sink;
    if (sink) this.#sinks.set(id, sink);
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#worker.postMessage({
        id,
        out: outPath,
        header,
        secrets: options.secrets ?? [],
        ...(sink ? { pressure: sink.pressure } : {}),
      } satisfies PumpRequest);
    });
  }

  /** Unblocks a pump whose writer never came (the runner is gone): a writer that opens and closes. */
  static release(outPath: string): void {
    try {
      closeSync(openSync(outPath, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: no reader is waiting.
    }
  }

  /** Closes the worker's end of echo (so the runner's log copier sees the end), then stops it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const id = this.#next++;
    const closed = new Promise<void>((resolve) => {
      this.#pending.set(id, () => resolve());
      this.#worker.postMessage({ id, close: true } satisfies PumpRequest);
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, 1000)))]);
    clearTimeout(timer);
    void this.#worker.terminate();
  }
}

/** How much of a flood goes to the main thread at once: few hand-overs, few appends, little garbage. */
const SHIP_BATCH = 1 << 20;

/**
 * Gathers the chunks to ship into batches (on the worker). A full batch's buffer is handed over whole
 * (transferred, not copied); a short one as a copy of its size, so a slow step's lines do not each hold a
 * whole batch's memory until they are sent.
 */
class ShipBatch {
  readonly #send: (chunk: Uint8Array<ArrayBuffer>) => void;
  #buf = new Uint8Array(SHIP_BATCH);
  #length = 0;
  constructor(send: (chunk: Uint8Array<ArrayBuffer>) => void) {
    this.#send = send;
  }
  add(chunk: Uint8Array): void {
    for (let at = 0; at < chunk.length; ) {
      const take = Math.min(chunk.length - at, SHIP_BATCH - this.#length);
      this.#buf.set(chunk.subarray(at, at + take), this.#length);
      this.#length += take;
      at += take;
      if (this.#length === SHIP_BATCH) this.flush();
    }
  }
  flush(): void {
    if (this.#length === 0) return;
    if (this.#length >= SHIP_BATCH / 2) {
      this.#send(new Uint8Array(this.#buf.buffer, 0, this.#length));
      this.#buf = new Uint8Array(SHIP_BATCH);
    } else this.#send(this.#buf.slice(0, this.#length));
    this.#length = 0;
  }
}

function writeAll(fd: number, buf: Buffer, length = buf.length): void {
  let off = 0;
  while (off < length) off += writeSync(fd, buf, off, length - off);
}

if (!isMainThread && parentPort) {
  const { workerData } = await import("node:worker_threads");
  const port = parentPort;
  // Blocking opens: the runner holds echo open for reading from its start.
  let echo = -1;
  const buf = Buffer.allocUnsafe(1 << 16);
  port.on("message", (req: PumpRequest) => {
    if ("close" in req) {
      if (echo !== -1) closeSync(echo);
      echo = -1;
      port.postMessage({ id: req.id, tail: "", bytes: 0 } satisfies PumpResult);
      return;
    }
    if (echo === -1) echo = openSync((workerData as { echoPath: string }).echoPath, constants.O_WRONLY);
    const head = Buffer.from(req.header);
    let echoOK = true;
    try {
      writeAll(echo, head, head.length);
    } catch {
      echoOK = false;
    }
    const tail = new Tail();
    const masker = new Masker(req.secrets);
    let bytes = 0;
    const pressure = req.pressure;
    const batch =
      pressure &&
      new ShipBatch((chunk) => {
        // Counted before it is sent: a transferred buffer is detached here (its length reads 0 after).
        const length = chunk.length;
        port.postMessage({ id: req.id, chunk } satisfies PumpChunk, [chunk.buffer]);
        handOver(pressure, length);
      });
    const copy = (chunk: Buffer) => {
      if (chunk.length === 0) return;
      tail.write(chunk);
      batch?.add(chunk);
      if (echoOK) {
        try {
          writeAll(echo, chunk);
        } catch {
          // The log reader went away: keep draining the step so it is not blocked.
          echoOK = false;
        }
      }
    };
    // Blocks until the runner opens its end: a rendezvous, not a poll.
    const fd = openSync(req.out, constants.O_RDONLY);
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        bytes += n;
        copy(masker.write(buf.subarray(0, n)));
        // A short read: the step is not writing faster than this copies, so nothing is gained by waiting.
        if (n < buf.length) batch?.flush();
      }
    } finally {
      closeSync(fd);
    }
    copy(masker.flush());
    batch?.flush();
    port.postMessage({ id: req.id, tail: tail.text(5), bytes } satisfies PumpResult);
  });
}
