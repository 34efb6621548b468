// `kubectl exec` and exec probes/hooks on the process kubelet: a command run inside a running
// container's namespaces (mount, pid, uts, its root) through the container init, as `runc exec`
// runs one: the container's user, groups and capabilities, its working directory, its env, the
// executable looked up in the container's PATH. No TTY.

import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import * as fs from "node:fs";
import type { V1Container } from "@kubernetes/client-node";
import { containerInit, initArgs, type ProcessIdentity } from "../../lib/container/container-init.ts";

/** A running container, as exec probes, hooks and `kubectl exec` enter it. */
export interface ProbeTarget {
  pid: number;
  env: ReadonlyMap<string, string>;
  container: V1Container;
  podIP: string;
  /** The container's user, groups and capabilities, for exec probes, hooks and `kubectl exec`. */
  identity: ProcessIdentity;
  workingDir: string;
}

export interface ExecOptions {
  /** Keep stdin open for the caller to write to. */
  stdin?: boolean;
}

const INIT_FD = 3;

/** Spawns `command` in the target container; the init's own errors (command not found …) go to stderr. */
export function spawnInContainer(
  target: ProbeTarget,
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

export function execIn(target: ProbeTarget, command: string[], options: ExecOptions = {}): ChildProcess {
  return spawnInContainer(target, command, { stdin: options.stdin ? "pipe" : "ignore", output: "pipe" });
}
