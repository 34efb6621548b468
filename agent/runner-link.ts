// The agent's end of the FIFOs to the runner in the build container (protocol: pod-protocol.ts).
// Everything is event driven: FIFOs are wrapped in net.Sockets (epoll, no thread pool, no polling).
import { once } from "node:events";
import { constants, openSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import { join } from "node:path";
import type { RunStep } from "./manifest-schema.ts";
import { Tail } from "./output.ts";
import type { Executor, StepProcess, StopSignal } from "./pipeline-run.ts";
import {
  FIFOS,
  formatCommand,
  parseEvent,
  type RunnerCommand,
  type RunnerEvent,
  STEPS_DIR,
  stepScript,
  stepScriptPath,
} from "./pod-protocol.ts";

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
  /** How long after a step's shell exited its output may stay open (leftover processes) before KILL. */
  drainGraceMs?: number;
}

export class RunnerLink implements Executor {
  readonly #dir: string;
  readonly #next: Socket;
  readonly #echo: Socket;
  readonly #events: Socket;
  readonly #waiters = new Set<(event: RunnerEvent | undefined) => void>();
  readonly #drainGraceMs: number;
  #gone = false;
  #ready: Promise<number>;

  constructor(options: RunnerLinkOptions) {
    this.#dir = options.kilnDir;
    this.#drainGraceMs = options.drainGraceMs ?? 2000;
    this.#events = reader(join(this.#dir, FIFOS.events));
    this.#next = writer(join(this.#dir, FIFOS.next));
    this.#echo = writer(join(this.#dir, FIFOS.echo));
    // Writes to a FIFO nobody reads any more fail with EPIPE; the events EOF already tells us.
    this.#next.on("error", () => undefined);
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

  /** Bytes for the build container's log (kubectl logs -c build). */
  echo(text: string): void {
    this.#echo.write(text);
  }

  #send(command: RunnerCommand): void {
    if (!this.#gone) this.#next.write(formatCommand(command));
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
    await mkdir(join(this.#dir, STEPS_DIR), { recursive: true });
    await writeFile(stepScriptPath(this.#dir, index), stepScript(env, step.run));
    this.echo(`\n==> ${step.name}\n`);
    const tail = new Tail();
    // Open our end of `out` before the runner opens its: the step's output EOF is the end of the step.
    const out = reader(join(this.#dir, FIFOS.out));
    out.on("data", (chunk: Buffer) => {
      tail.write(chunk);
      if (!this.#echo.write(chunk)) {
        out.pause();
        this.#echo.once("drain", () => out.resume());
      }
    });
    const outEnded = once(out, "close").then(() => undefined);
    const started = this.#waitFor((e) => (e.kind === "start" && e.index === index ? e.pgid : undefined));
    const done = this.#waitFor((e) => (e.kind === "done" && e.index === index ? e.exitCode : undefined));
    this.#send({ kind: "step", index });
    let pgid: number | undefined;
    const pending: StopSignal[] = [];
    started.then(
      (p) => {
        pgid = p;
        for (const s of pending.splice(0)) this.#send({ kind: "kill", pgid: p, signal: s });
      },
      () => undefined,
    );
    const exited = (async () => {
      let exitCode: number;
      try {
        exitCode = await done;
      } catch {
        out.destroy();
        return { exitCode: 125, tail: `${tail.text(5)}\n(the build container's runner went away)`.trim() };
      }
      // Leftovers got TERM from the runner; if one still holds the output open, KILL its group.
      const late = setTimeout(
        () => pgid !== undefined && this.#send({ kind: "kill", pgid, signal: "KILL" }),
        this.#drainGraceMs,
      );
      await outEnded;
      clearTimeout(late);
      return { exitCode, tail: tail.text(5) };
    })();
    return {
      exited,
      signal: (signal: StopSignal) => {
        if (pgid === undefined) pending.push(signal);
        else this.#send({ kind: "kill", pgid, signal });
      },
    };
  }

  /** Ends the runner (and so the build container) with `code`, after flushing the log. */
  async exit(code: number): Promise<void> {
    await closeAfterWrites(this.#echo);
    this.#send({ kind: "exit", code });
    await closeAfterWrites(this.#next);
  }

  close(): void {
    this.#events.destroy();
    this.#next.destroy();
    this.#echo.destroy();
  }
}

/** Closes our end once queued writes are out (a FIFO has no half-close: closing is the EOF). */
async function closeAfterWrites(socket: Socket): Promise<void> {
  if (socket.destroyed) return;
  if (socket.writableLength > 0) await once(socket, "drain").catch(() => undefined);
  socket.destroy();
}
