// `kubectl exec` and exec probes/hooks on the process kubelet: a command run inside a running
// container (lib/container/enter.ts, as `runc exec` runs one), with a terminal when asked.

import type { ChildProcess } from "node:child_process";
import type { V1Container } from "@kubernetes/client-node";
import { type EnterTarget, spawnInContainer } from "../../lib/container/enter.ts";

/** A running container, as exec probes, hooks and `kubectl exec` enter it. */
export interface ProbeTarget extends EnterTarget {
  container: V1Container;
  podIP: string;
}

export interface ExecOptions {
  /** Keep stdin open for the caller to write to. */
  stdin?: boolean;
  /** A terminal: stdin, stdout and stderr are one pty (output on stdout), resizable (resizeTerminal). */
  tty?: boolean;
}

export function execIn(target: ProbeTarget, command: string[], options: ExecOptions = {}): ChildProcess {
  return spawnInContainer(target, command, {
    stdin: options.stdin ? "pipe" : "ignore",
    output: "pipe",
    tty: options.tty ?? false,
  });
}
