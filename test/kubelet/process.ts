// One run of one container: bwrap started in its own process group, stdout/stderr into the
// container's log, the host pid of the container's pid 1 from bwrap's status fd, and
// SIGTERM-then-SIGKILL termination.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { type Cgroup, createCgroup } from "./cgroup.ts";
import type { ContainerLog } from "./logs.ts";
import { bwrapArgs, type Mount } from "./sandbox.ts";

export interface ProcessSpec {
  command: string[];
  env: ReadonlyMap<string, string>;
  mounts: Mount[];
  workingDir: string;
  hostname: string;
  readOnlyRoot?: boolean;
  /** Host directories the container must not see (see SandboxSpec.hidden). */
  hidden?: string[];
  log: ContainerLog;
  bwrap?: string;
  /** Names the container's cgroup (unique per run). */
  id: string;
  /** limits.memory, enforced when a memory cgroup can be made. */
  memoryLimitBytes?: number;
}

export interface Exit {
  exitCode: number;
  /** Set when pid 1 was killed by a signal (exitCode is then 128 + signal). */
  signal?: number;
  /** bwrap's own failure before the command ran (bad mount …), from its stderr. */
  setupError?: string;
  /** The kernel's OOM killer struck inside the container's memory cgroup. */
  oomKilled?: boolean;
}

const STATUS_FD = 3;

export class ContainerProcess {
  readonly exited: Promise<Exit>;
  /** Host pid of the container's pid 1, once bwrap has set the sandbox up. */
  readonly pid: Promise<number | undefined>;
  private pid1: number | undefined;
  private done = false;
  private readonly cgroup: Cgroup | undefined;

  constructor(spec: ProcessSpec) {
    const args = bwrapArgs({
      command: spec.command,
      mounts: spec.mounts,
      workingDir: spec.workingDir,
      hostname: spec.hostname,
      statusFd: STATUS_FD,
      readOnlyRoot: spec.readOnlyRoot ?? false,
      ...(spec.hidden ? { hidden: spec.hidden } : {}),
    });
    this.cgroup = createCgroup(spec.id, spec.memoryLimitBytes);
    const argv = [spec.bwrap ?? "bwrap", ...args];
    const [file, ...rest] = this.cgroup ? this.cgroup.wrap(argv) : argv;
    const child = spawn(file!, rest, {
      env: Object.fromEntries(spec.env),
      stdio: ["ignore", "pipe", "pipe", "pipe"],
      detached: true,
    });
    let status = "";
    let started = false;
    this.pid = new Promise((resolve) => {
      child.stdio[STATUS_FD]?.on("data", (d: Buffer) => {
        status += d.toString();
        const m = /"child-pid":\s*(\d+)/.exec(status);
        if (m && !started) {
          started = true;
          this.pid1 = Number(m[1]);
          void sandboxReady(this.pid1, bwrapPath(spec.bwrap ?? "bwrap")).then(() => resolve(this.pid1));
        }
      });
      child.on("close", () => resolve(undefined));
    });
    // bwrap reports its own failures (bad mount, exec failure) on stderr, prefixed "bwrap: ", and
    // exits 1. Such a first stderr chunk is held back until it is clear whose it was.
    let held: Buffer | undefined;
    let spoke = false;
    const release = () => {
      if (held) spec.log.write("stderr", held);
      held = undefined;
    };
    child.stdout?.on("data", (d: Buffer) => {
      spoke = true;
      release();
      spec.log.write("stdout", d);
    });
    child.stderr?.on("data", (d: Buffer) => {
      if (!spoke && held === undefined && d.toString().startsWith("bwrap: ")) {
        held = d;
        return;
      }
      // bwrap writes its message and the newline separately.
      if (held && !held.includes("\n")) {
        held = Buffer.concat([held, d]);
        return;
      }
      spoke = true;
      release();
      spec.log.write("stderr", d);
    });
    this.exited = new Promise((resolve) => {
      child.on("error", (error) => {
        this.done = true;
        resolve({ exitCode: 128, setupError: `cannot start bwrap: ${error.message}` });
      });
      child.on("close", async (code, signal) => {
        this.done = true;
        const oomKilled = this.cgroup?.oomKilled() ?? false;
        await this.reapCgroup();
        const m = /"exit-code":\s*(\d+)/.exec(status);
        const exitCode = m ? Number(m[1]) : (code ?? 128 + signalNumber(signal));
        const exit: Exit = { exitCode };
        if (oomKilled) exit.oomKilled = true;
        if (exitCode > 128) exit.signal = exitCode - 128;
        if (held && exitCode === 1 && !spoke) exit.setupError = held.toString().trim();
        else release();
        resolve(exit);
      });
    });
  }

  /** Belt and braces: nothing in the container's cgroup outlives it. */
  private async reapCgroup(): Promise<void> {
    if (!this.cgroup) return;
    for (const pid of this.cgroup.pids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await this.cgroup.remove();
  }

  /** Signals the container's process group (pid 1 ignores signals it has no handler for). */
  signal(sig: NodeJS.Signals): void {
    if (this.done || this.pid1 === undefined) return;
    try {
      process.kill(-this.pid1, sig);
    } catch {
      // already gone
    }
    if (sig === "SIGKILL") {
      try {
        process.kill(this.pid1, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves when the sandbox is gone. */
  async terminate(graceMs: number): Promise<Exit> {
    await this.pid;
    this.signal("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.signal("SIGKILL");
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    return this.exited;
  }
}

/**
 * bwrap reports the child's pid before it has set up the mounts; the sandbox is ready once that
 * process has exec'd the command (until then, nsenter would see a half-built mount namespace).
 */
async function sandboxReady(pid: number, bwrap: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/exe`) !== bwrap) return;
    } catch {
      return; // gone already
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The real path of the bwrap binary, as /proc/<pid>/exe shows it. */
function bwrapPath(name: string): string {
  const dirs = name.includes("/") ? [""] : (process.env.PATH ?? "/usr/bin:/bin").split(":");
  for (const dir of dirs) {
    try {
      return fs.realpathSync(dir ? `${dir}/${name}` : name);
    } catch {}
  }
  return name;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1 };
  return (signal && table[signal]) || 0;
}
