// A command run inside a running container's namespaces (mount, pid, uts, its root) through the
// container init, as `runc exec` runs one: the container's user, groups and capabilities, its working
// directory, its env, the executable looked up in the container's PATH. No TTY.
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import * as fs from "node:fs";
import { containerInit, initArgs, type ProcessIdentity } from "./container-init.ts";

/** The running container to enter: its pid 1 on the host, and what its process was started with. */
export interface EnterTarget {
  pid: number;
  env: ReadonlyMap<string, string>;
  identity: ProcessIdentity;
  workingDir: string;
}

const INIT_FD = 3;

/** Spawns `command` in the target container; the init's own errors (command not found …) go to stderr. */
export function spawnInContainer(
  target: EnterTarget,
  command: string[],
  stdio: { stdin: "pipe" | "ignore"; output: "pipe" | "ignore" },
  detached = false,
): ChildProcess {
  const init = fs.openSync(containerInit(), "r");
  try {
    const io: StdioOptions = [stdio.stdin, stdio.output, stdio.output, init];
    return spawn(
      "nsenter",
      [
        ...["-t", String(target.pid), "-m", "-p", "-u", "-r", "--"],
        `/proc/self/fd/${INIT_FD}`,
        ...initArgs(undefined, target.identity, target.workingDir, command),
      ],
      { env: Object.fromEntries(target.env), stdio: io, detached },
    );
  } finally {
    fs.closeSync(init);
  }
}
