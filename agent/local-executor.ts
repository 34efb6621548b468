// Local mode: each step is `sh -e -c <run>` in its own process group (detached), so a timeout or
// Ctrl-C can signal everything it started, and whatever it leaves behind is stopped when it ends.
import { spawn } from "node:child_process";
import type { Writable } from "node:stream";
import type { RunStep } from "./manifest-schema.ts";
import { Masker, type SecretValue } from "./mask.ts";
import { LinePrefixer, Tail } from "./output.ts";
import type { Executor, StepProcess, StopSignal } from "./pipeline-run.ts";

export interface LocalExecutorOptions {
  cwd: string;
  /** Where prefixed output goes (process.stdout in `kiln run`). */
  out: Writable;
  /** The base environment (process.env in `kiln run`). */
  env: NodeJS.ProcessEnv;
  /** Width the step name is padded to in the prefix. */
  nameWidth?: number;
  graceMs?: number;
  /** Values masked in the steps' output (console and tail) before anything else sees it. */
  secrets?: readonly SecretValue[];
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function localExecutor(options: LocalExecutorOptions): Executor {
  return {
    async start(_index: number, step: RunStep, env: Record<string, string>): Promise<StepProcess> {
      const child = spawn("sh", ["-e", "-c", step.run], {
        cwd: options.cwd,
        env: { ...options.env, ...env },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const pgid = child.pid;
      const tail = new Tail();
      const name = options.nameWidth ? step.name.padEnd(options.nameWidth) : step.name;
      const pump = (stream: NodeJS.ReadableStream) => {
        const prefixer = new LinePrefixer(`${name} | `);
        const masker = new Masker(options.secrets ?? []);
        stream.on("data", (raw: Buffer) => {
          const chunk = masker.write(raw);
          tail.write(chunk);
          if (!options.out.write(prefixer.transform(chunk))) {
            stream.pause();
            options.out.once("drain", () => stream.resume());
          }
        });
        return new Promise<void>((resolve) =>
          stream.on("close", () => {
            const held = masker.flush();
            tail.write(held);
            if (held.length) options.out.write(prefixer.transform(held));
            const rest = prefixer.flush();
            if (rest.length) options.out.write(rest);
            resolve();
          }),
        );
      };
      const drained = Promise.all([pump(child.stdout!), pump(child.stderr!)]);
      const exited = new Promise<{ exitCode: number; tail: string }>((resolve) => {
        let spawnError: Error | undefined;
        child.on("error", (e) => {
          spawnError = e;
        });
        child.on("close", () => undefined);
        child.on("exit", async (code, signal) => {
          // A step ends with its shell; what it left running is stopped so nothing outlives the run.
          if (pgid !== undefined) killGroup(pgid, "SIGTERM");
          const late = setTimeout(
            () => pgid !== undefined && killGroup(pgid, "SIGKILL"),
            options.graceMs ?? 2000,
          );
          await drained;
          clearTimeout(late);
          const exitCode = spawnError ? 127 : (code ?? 128 + (SIGNAL_NUMBERS[signal ?? ""] ?? 1));
          resolve({ exitCode, tail: tail.text(5) });
        });
      });
      return {
        exited,
        signal(signal: StopSignal) {
          if (pgid !== undefined) killGroup(pgid, `SIG${signal}`);
        },
      };
    },
  };
}
