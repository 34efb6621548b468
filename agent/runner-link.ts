// The agent's end of the FIFOs to the runner in the build container (protocol: pod-protocol.ts).
// Everything is event driven: FIFOs are wrapped in net.Sockets (epoll, no thread pool, no polling).
import { once } from "node:events";
import { constants, mkdirSync, openSync, writeFileSync } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";
import { FIFOS, STEPS_DIR, stepHeader } from "../api/pod-protocol.ts";
import type { RunStep } from "./manifest-schema.ts";
import type { SecretValue } from "./mask.ts";
import { OutputPump } from "./output-pump.ts";
import type { Executor, StepProcess, StopSignal } from "./pipeline-run.ts";
import {
  formatCommand,
  formatStop,
  parseEvent,
  type RunnerCommand,
  type RunnerEvent,
  stepScript,
  stepScriptPath,
} from "./runner-protocol.ts";
import type { StepLogSink } from "./step-logs.ts";

/** Opening O_RDWR never blocks and never sees EOF: right for FIFOs we only write to and keep open. */
function writer(path: string): Socket {
  return new Socket({
    fd: openSync(path, constants.O_RDWR | constants.O_NONBLOCK),
    readable: false,
    writable: true,
  });
}

/** O_RDONLY|O_NONBLOCK: EOF once the last writer (the runner, or a step) closes its end. */
function reader(path: string): Socket {
  return new Socket({
    fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK),
    readable: true,
    writable: false,
  });
}

export interface RunnerLinkOptions {
  kilnDir: string;
  /** Where each step's output goes besides the build log (the store), when the build has one. */
  logs?: { open(step: string, index: number): StepLogSink };
}

/** How long a step's output may stay open after its shell exited (leftovers) before TERM; KILL at twice. */
const DRAIN_GRACE_MS = 2000;

export class RunnerLink implements Executor {
  readonly #dir: string;
  readonly #logs: RunnerLinkOptions["logs"];
  readonly #next: Socket;
  readonly #ctl: Socket;
  readonly #pump: OutputPump;
  readonly #echo: Socket;
  readonly #events: Socket;
  readonly #waiters = new Set<(event: RunnerEvent | undefined) => void>();
  #gone = false;
  #ready: Promise<number>;
  #secrets: readonly SecretValue[] = [];

  constructor(options: RunnerLinkOptions) {
    this.#dir = options.kilnDir;
    this.#logs = options.logs;
    mkdirSync(join(this.#dir, STEPS_DIR), { recursive: true });
    this.#pump = new OutputPump(join(this.#dir, FIFOS.echo));
    this.#events = reader(join(this.#dir, FIFOS.events));
    this.#next = writer(join(this.#dir, FIFOS.next));
    this.#ctl = writer(join(this.#dir, FIFOS.ctl));
    this.#echo = writer(join(this.#dir, FIFOS.echo));
    // Writes to a FIFO nobody reads any more fail with EPIPE; the events EOF already tells us.
    this.#next.on("error", () => undefined);
    this.#ctl.on("error", () => undefined);
    this.#echo.on("error", () => undefined);
    let buffered = "";
    this.#events.setEncoding("utf8");
    this.#events.on("data", (text: string) => {
      buffered += text;
      let nl = buffered.indexOf("\n");
      while (nl !== -1) {
        const event = parseEvent(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if (event) for (const w of [...this.#waiters]) w(event);
        nl = buffered.indexOf("\n");
      }
    });
    const gone = () => {
      this.#gone = true;
      for (const w of [...this.#waiters]) w(undefined);
    };
    this.#events.on("end", gone);
    this.#events.on("error", gone);
    this.#ready = this.#waitFor((e) => (e.kind === "ready" ? e.pid : undefined));
  }

  /** Resolves with the runner's pid once it is up; rejects if it went away. */
  ready(): Promise<number> {
    return this.#ready;
  }

  get gone(): boolean {
    return this.#gone;
  }

  /** From the next step on, these values are masked in the steps' output (log, tail, all of it). */
  maskSecrets(values: readonly SecretValue[]): void {
    this.#secrets = values;
  }

  /** Bytes for the build container's log (kubectl logs -c build). */
  echo(text: string): void {
    this.#echo.write(text);
  }

  #send(command: RunnerCommand): void {
    if (!this.#gone) this.#next.write(formatCommand(command));
  }

  #stop(signal: StopSignal, index: number): void {
    if (!this.#gone) this.#ctl.write(formatStop(signal, index));
  }

  #waitFor<T>(pick: (e: RunnerEvent) => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.#gone) return reject(new Error("the runner went away"));
      const w = (e: RunnerEvent | undefined) => {
        if (e === undefined) {
          this.#waiters.delete(w);
          reject(new Error("the runner went away"));
          return;
        }
        const v = pick(e);
        if (v !== undefined) {
          this.#waiters.delete(w);
          resolve(v);
        }
      };
      this.#waiters.add(w);
    });
  }

  async start(index: number, step: RunStep, env: Record<string, string>): Promise<StepProcess> {
    // Small and local: a synchronous write beats a thread-pool round trip per step.
    writeFileSync(stepScriptPath(this.#dir, index), stepScript(env, step.run, { kilnDir: this.#dir, index }));
    // The pump opens our end of `out` (the runner's open waits for it) and copies the step's output
    // to the build log until the end of file, which is the end of the step's output.
    const outPath = join(this.#dir, FIFOS.out);
    const sink = this.#logs?.open(step.name, index);
    const pumped = this.#pump.pump(outPath, stepHeader(step.name), {
      secrets: this.#secrets,
      ...(sink ? { sink } : {}),
    });
    if (sink) void pumped.then(() => sink.end());
    const started = this.#waitFor((e) => (e.kind === "start" && e.index === index ? true : undefined));
    const done = this.#waitFor((e) => (e.kind === "done" && e.index === index ? e.exitCode : undefined));
    this.#send({ kind: "step", index });
    // A stop asked before the runner took the step waits for it; one that lands before the step's
    // shell exists is caught by the step script's guard (stepScript).
    let running = false;
    const pending: StopSignal[] = [];
    started.then(
      () => {
        running = true;
        for (const s of pending.splice(0)) this.#stop(s, index);
      },
      () => undefined,
    );
    const exited = (async () => {
      let exitCode: number;
      try {
        exitCode = await done;
      } catch {
        // The pump may be about to open `out` for a step that will never come: release it until it
        // lets go (only on this failure path, so the retry costs nothing normally).
        let settled = false;
        void pumped.then(() => {
          settled = true;
        });
        for (let i = 0; i < 100 && !settled; i++) {
          OutputPump.release(outPath);
          await new Promise((r) => setTimeout(r, 20));
        }
        return { exitCode: 125, tail: "(the build container's runner went away)" };
      }
      // Something the step left in the background still holds its output: stop it, TERM then KILL.
      const term = setTimeout(() => this.#stop("TERM", index), DRAIN_GRACE_MS);
      const kill = setTimeout(() => this.#stop("KILL", index), 2 * DRAIN_GRACE_MS);
      const { tail } = await pumped;
      clearTimeout(term);
      clearTimeout(kill);
      return { exitCode, tail };
    })();
    return {
      exited,
      signal: (signal: StopSignal) => {
        if (running) this.#stop(signal, index);
        else pending.push(signal);
      },
    };
  }

  /** Ends the runner (and so the build container) with `code`, after flushing the log. */
  async exit(code: number, abort?: AbortSignal): Promise<void> {
    // Closing our ends before the runner opened its would leave it blocked opening them, forever; but
    // a cancelled agent does not wait for a build container that never started.
    const aborted = new Promise<void>((resolve) => {
      if (abort?.aborted) resolve();
      abort?.addEventListener("abort", () => resolve(), { once: true });
    });
    await Promise.race([this.#ready.catch(() => undefined), aborted]);
    await this.#pump.close();
    await closeAfterWrites(this.#echo);
    this.#send({ kind: "exit", code });
    await closeAfterWrites(this.#next);
    await closeAfterWrites(this.#ctl);
  }

  close(): void {
    void this.#pump.close();
    this.#events.destroy();
    this.#next.destroy();
    this.#ctl.destroy();
    this.#echo.destroy();
  }
}

/** Closes our end once queued writes are out (a FIFO has no half-close: closing is the EOF). */
async function closeAfterWrites(socket: Socket): Promise<void> {
  if (socket.destroyed) return;
  if (socket.writableLength > 0) await once(socket, "drain").catch(() => undefined);
  socket.destroy();
}
