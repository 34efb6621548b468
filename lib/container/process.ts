// One run of one container: bwrap started in its own process group with the container init as its
// command (container-init.ts: user, capabilities, working directory, the executable looked up in the
// container's PATH), stdout/stderr into the container's log, the host pid of the container's pid 1
// from bwrap's status fd, the init's report of whether the process started, and SIGTERM-then-SIGKILL
// termination. A container with `tty: true` runs on a terminal of its own, as an exec with a tty does
// (enter.ts): the init opens it inside the container and the tty shim outside relays it into the log.
//
// Image mode: the container's root is an overlay of the image's root (lower, read-only) and a
// writable layer of its own in `layerDir` (upper), mounted inside a private mount namespace that
// unshare makes for bwrap alone — nothing is mounted on the host, so nothing outlives the container,
// even if the kubelet is killed — and the layer is deleted when the container ends, as containerd
// discards a container's snapshot.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { type Cgroup, createCgroup } from "./cgroup.ts";
import { containerInit, initArgs, type ProcessIdentity, parseReport, ttyShim } from "./container-init.ts";
import { rootView } from "./root-view.ts";
import { bwrapArgs, type Mount } from "./sandbox.ts";

/** Where a container's output goes (the process kubelet's ContainerLog; kiln run's console). */
export interface ContainerLog {
  write(stream: "stdout" | "stderr", chunk: Buffer): void;
}

export interface ProcessSpec {
  /** The container's argv as the user gave it: the init looks argv[0] up in the container's PATH. */
  command: string[];
  /** Who the process runs as; root with an untouched bounding set when unset. */
  identity?: ProcessIdentity;
  env: ReadonlyMap<string, string>;
  mounts: Mount[];
  workingDir: string;
  hostname: string;
  readOnlyRoot?: boolean;
  /** Host directories the container must not see (see SandboxSpec.hidden; host-mirror mode). */
  hidden?: string[];
  /** Image mode: the image's root filesystem and a fresh directory for this run's writable layer. */
  image?: { rootfs: string; layerDir: string };
  log: ContainerLog;
  bwrap?: string;
  /** Names the container's cgroup (unique per run). */
  id: string;
  /** limits.memory, enforced when a memory cgroup can be made. */
  memoryLimitBytes?: number;
  /** The container's `tty`: stdin, stdout and stderr are one terminal, all its output on stdout. */
  tty?: boolean;
  /** The container's `stdin`: an open stdin (nothing writes to it: no attach here), else /dev/null. */
  stdin?: boolean;
}

export interface Exit {
  exitCode: number;
  /** Set when pid 1 was killed by a signal (exitCode is then 128 + signal). */
  signal?: number;
  /** The sandbox could not be set up (bad mount …): bwrap's or mount's own message. */
  setupError?: string;
  /** The init could not start the process (runc's wording: executable not found, bad cwd …). */
  startError?: string;
  /** The kernel's OOM killer struck inside the container's memory cgroup. */
  oomKilled?: boolean;
}

const STATUS_FD = 3;
const INIT_FD = 4;
const REPORT_FD = 5;
/** With a tty: where the init finds its end of the console socket (the shim makes it). */
const CONSOLE_FD = 6;
const ROOT: ProcessIdentity = { uid: 0, gid: 0, groups: [0], capabilities: "all" };

export class ContainerProcess {
  readonly exited: Promise<Exit>;
  /** Host pid of the container's pid 1 once its process started; undefined if it never did. */
  readonly pid: Promise<number | undefined>;
  private pid1: number | undefined;
  private done = false;
  private readonly cgroup: Cgroup | undefined;

  constructor(spec: ProcessSpec) {
    let root: { dir: string; view: ReturnType<typeof rootView> } | undefined;
    let overlay: string[] = [];
    if (spec.image) {
      const { rootfs, layerDir } = spec.image;
      const [upper, work, dir] = ["upper", "work", "root"].map((d) => path.join(layerDir, d)) as [
        string,
        string,
        string,
      ];
      for (const d of [upper, work, dir]) fs.mkdirSync(d, { recursive: true });
      root = { dir, view: rootView(rootfs) };
      overlay = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "/bin/sh",
        "-c",
        'mount -t overlay overlay -o "$1" "$2" && shift 2 && exec "$@"',
        "sh",
        `lowerdir=${rootfs},upperdir=${upper},workdir=${work}`,
        dir,
      ];
    }
    const args = bwrapArgs({
      command: [
        `/proc/self/fd/${INIT_FD}`,
        ...initArgs(
          { report: REPORT_FD, ...(spec.tty ? { console: CONSOLE_FD } : {}) },
          spec.identity ?? ROOT,
          spec.workingDir || "/",
          spec.command,
        ),
      ],
      mounts: spec.mounts,
      workingDir: spec.workingDir,
      hostname: spec.hostname,
      statusFd: STATUS_FD,
      readOnlyRoot: spec.readOnlyRoot ?? false,
      ...(root ? { root } : {}),
      ...(spec.hidden ? { hidden: spec.hidden } : {}),
    });
    this.cgroup = createCgroup(spec.id, spec.memoryLimitBytes);
    const argv = [...overlay, spec.bwrap ?? "bwrap", ...args];
    const contained = this.cgroup ? this.cgroup.wrap(argv) : argv;
    // The shim stays outside the container's cgroup, as containerd's shim does.
    const [file, ...rest] = spec.tty ? [ttyShim(), String(CONSOLE_FD), "-", ...contained] : contained;
    const env = Object.fromEntries(spec.env);
    // containerd's WithTTY adds TERM=xterm (the container's own TERM, if any, wins).
    if (spec.tty && env.TERM === undefined) env.TERM = "xterm";
    const init = fs.openSync(containerInit(), "r");
    const child = spawn(file!, rest, {
      env,
      stdio: [spec.stdin ? "pipe" : "ignore", "pipe", "pipe", "pipe", init, "pipe"],
      detached: true,
    });
    fs.closeSync(init);
    let status = "";
    let report = "";
    let started: boolean | undefined;
    let startError: string | undefined;
    // Until the init reports, stderr is the sandbox's own (bwrap, mount): held back, then either the
    // setup error or released into the log.
    let held: Buffer[] = [];
    const release = () => {
      for (const b of held) spec.log.write("stderr", b);
      held = [];
    };
    let resolvePid: (pid: number | undefined) => void = () => {};
    this.pid = new Promise((resolve) => {
      resolvePid = resolve;
    });
    const settle = () => {
      if (started === undefined || (started && this.pid1 === undefined)) return;
      resolvePid(started ? this.pid1 : undefined);
    };
    child.stdio[STATUS_FD]?.on("data", (d: Buffer) => {
      status += d.toString();
      const m = /"child-pid":\s*(\d+)/.exec(status);
      if (m && this.pid1 === undefined) {
        this.pid1 = Number(m[1]);
        settle();
      }
    });
    (child.stdio as unknown as (Readable | null)[])[REPORT_FD]?.on("data", (d: Buffer) => {
      if (started !== undefined) return;
      report += d.toString();
      const r = parseReport(report);
      if (!r) return;
      started = r.started;
      if (r.started) release();
      else startError = r.error;
      settle();
    });
    child.stdout?.on("data", (d: Buffer) => spec.log.write("stdout", d));
    child.stderr?.on("data", (d: Buffer) => {
      if (started === undefined) held.push(d);
      else spec.log.write("stderr", d);
    });
    this.exited = new Promise((resolve) => {
      child.on("error", (error) => {
        this.done = true;
        resolvePid(undefined);
        resolve({ exitCode: 128, setupError: `cannot start bwrap: ${error.message}` });
      });
      child.on("close", async (code, signal) => {
        this.done = true;
        resolvePid(started ? this.pid1 : undefined);
        const oomKilled = this.cgroup?.oomKilled() ?? false;
        await this.reapCgroup();
        if (spec.image) fs.rmSync(spec.image.layerDir, { recursive: true, force: true });
        const m = /"exit-code":\s*(\d+)/.exec(status);
        const exitCode = m ? Number(m[1]) : (code ?? 128 + signalNumber(signal));
        if (startError !== undefined) return resolve({ exitCode: 128, startError });
        if (!started) {
          const text = Buffer.concat(held).toString().trim();
          return resolve({ exitCode: 128, setupError: text || `sandbox exited with ${exitCode}` });
        }
        const exit: Exit = { exitCode };
        if (oomKilled) exit.oomKilled = true;
        if (exitCode > 128) exit.signal = exitCode - 128;
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

function signalNumber(signal: NodeJS.Signals | null): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1 };
  return (signal && table[signal]) || 0;
}
