// A command run inside a running container's namespaces (mount, pid, uts, its root) through the
// container init, as `runc exec` runs one: the container's user, groups and capabilities, its working
// directory, its env, the executable looked up in the container's PATH. With a tty the same path runs
// under the tty shim (tty-shim.c), the init opens the terminal inside the container and sends its
// master out, and the shim relays it and applies window sizes — runc's console socket and
// containerd-shim's console.
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import * as fs from "node:fs";
import type { Writable } from "node:stream";
import { containerInit, initArgs, type ProcessIdentity, ttyShim } from "./container-init.ts";

/** The running container to enter: its pid 1 on the host, and what its process was started with. */
export interface EnterTarget {
  pid: number;
  env: ReadonlyMap<string, string>;
  identity: ProcessIdentity;
  workingDir: string;
}

const INIT_FD = 3;
/** With a tty: the shim's resize pipe, and the fd where the init finds its end of the console socket. */
const RESIZE_FD = 4;
const CONSOLE_FD = 5;

/** Spawns `command` in the target container; the init's own errors (command not found …) go to stderr. */
export function spawnInContainer(
  target: EnterTarget,
  command: string[],
  stdio: { stdin: "pipe" | "ignore"; output: "pipe" | "ignore"; tty?: boolean },
  detached = false,
): ChildProcess {
  const init = fs.openSync(containerInit(), "r");
  try {
    const tty = stdio.tty ?? false;
    const argv = [
      "nsenter",
      ...["-t", String(target.pid), "-m", "-p", "-u", "-r", "--"],
      `/proc/self/fd/${INIT_FD}`,
      ...initArgs(tty ? { console: CONSOLE_FD } : {}, target.identity, target.workingDir, command),
    ];
    const [file, ...args] = tty ? [ttyShim(), String(CONSOLE_FD), String(RESIZE_FD), ...argv] : argv;
    const io: StdioOptions = [
      stdio.stdin,
      stdio.output,
      stdio.output,
      init,
      ...(tty ? ["pipe" as const] : []),
    ];
    const env = Object.fromEntries(target.env);
    if (tty) env.TERM = "xterm"; // containerd's CRI sets it for an exec with a terminal
    const child = spawn(file!, args, { env, stdio: io, detached });
    // A size sent as the shim exits is simply lost.
    (child.stdio[RESIZE_FD] as Writable | null | undefined)?.on("error", () => {});
    return child;
  } finally {
    fs.closeSync(init);
  }
}

/** A new window size for an exec started with a tty (the foreground process gets SIGWINCH). */
export function resizeTerminal(child: ChildProcess, columns: number, rows: number): void {
  const pipe = child.stdio[RESIZE_FD] as Writable | null | undefined;
  if (pipe && !pipe.destroyed) pipe.write(`${Math.trunc(columns)} ${Math.trunc(rows)}\n`);
}
