// `kiln run --image` with docker or podman: the command lines of engine-cli.ts, run. Each container is
// an attached `run --rm` (its output is ours to show; it goes when it ends); it counts as started once
// the engine says it is running. A run killed outright leaves its containers running: they carry the
// label dev.kiln.run (`docker rm -f $(docker ps -q --filter label=dev.kiln.run)`).
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import type { ContainerLog } from "../lib/container/process.ts";
import type { Engine, RunningContainer } from "./engine.ts";
import {
  type CliEngine,
  containerName,
  engineEnv,
  execArgs,
  parsePort,
  portArgs,
  removeArgs,
  runArgs,
  runningArgs,
  shellHint,
  stopArgs,
} from "./engine-cli.ts";
import type { LocalContainer, LocalPod } from "./local-pod.ts";
import { Tail } from "./output.ts";

const run = promisify(execFile);

/** How often the engine is asked whether a container runs yet. */
const STARTED_POLL_MS = 100;

export function dockerEngine(kind: CliEngine, runId: string, pod: LocalPod): Engine {
  const started: LocalContainer[] = [];
  const addresses = new Map<number, Promise<{ host: string; port: number }>>();

  const isRunning = async (c: LocalContainer) => {
    try {
      const { stdout } = await run(kind, runningArgs(runId, c));
      return stdout.trim() === "true";
    } catch {
      return false; // not created yet
    }
  };

  return {
    name: kind,
    async start(c: LocalContainer, log: ContainerLog): Promise<RunningContainer> {
      // Its own process group: a Ctrl-C at the terminal is kiln run's to handle (stop the step, then the
      // services in order), not for docker to pass to every container at once.
      const child = spawn(kind, runArgs(runId, pod, c), {
        env: engineEnv(c, process.env),
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      started.push(c);
      const errors = new Tail();
      child.stdout.on("data", (d: Buffer) => log.write("stdout", d));
      child.stderr.on("data", (d: Buffer) => {
        errors.write(d);
        log.write("stderr", d);
      });
      let ended = false;
      const exited = new Promise<{ exitCode: number; error?: string }>((resolve) => {
        child.on("error", (e) => {
          ended = true;
          resolve({ exitCode: 127, error: `cannot run ${kind}: ${e.message}` });
        });
        child.on("close", (code, signal) => {
          ended = true;
          // 125: the engine itself failed (no such image, a bad option); 126, 127: the command.
          const exitCode = code ?? 128;
          const failed = exitCode === 125 || exitCode === 126 || exitCode === 127;
          resolve({
            exitCode,
            ...(failed && {
              error: errors.text(5) || `${kind} run exited with ${exitCode}${signal ? ` (${signal})` : ""}`,
            }),
          });
        });
      });
      for (;;) {
        if (await isRunning(c)) break;
        if (ended) {
          const e = await exited;
          throw new Error(`${c.name}: ${e.error ?? `exited with ${e.exitCode} before it was running`}`);
        }
        await new Promise((r) => setTimeout(r, STARTED_POLL_MS));
      }
      return {
        exited,
        exec: (command, timeoutMs) =>
          new Promise((resolve) => {
            const probe = spawn(kind, execArgs(runId, c, command), { stdio: "ignore", detached: true });
            const timer = setTimeout(() => {
              probe.kill("SIGKILL");
              resolve(124);
            }, timeoutMs);
            probe.on("error", () => resolve(127));
            probe.on("close", (code) => {
              clearTimeout(timer);
              resolve(code ?? 137);
            });
          }),
        shell: shellHint(kind, runId, c),
      };
    },
    address(port: number) {
      let found = addresses.get(port);
      if (!found) {
        found = run(kind, portArgs(runId, pod, port)).then(({ stdout }) => {
          const address = parsePort(stdout);
          if (!address)
            throw new Error(`${kind} port ${containerName(runId, pod.build)} ${port}: ${stdout.trim()}`);
          return address;
        });
        addresses.set(port, found);
        found.catch(() => addresses.delete(port));
      }
      return found;
    },
    async close(graceMs: number) {
      if (started.length === 0) return;
      // One stop for all (the engine stops them at once); the build container has ended by now.
      await run(kind, stopArgs(runId, started, graceMs)).catch(() => undefined);
      await run(kind, removeArgs(runId, started)).catch(() => undefined);
    },
  };
}
