// `kubectl exec` on the process kubelet: a command run inside a running container's namespaces
// (mount, pid, uts, its root and working directory) as the container's user, with its env. No TTY.
import { type ChildProcess, spawn } from "node:child_process";
import type { ProbeTarget } from "./probes.ts";

export interface ExecOptions {
  /** Keep stdin open for the caller to write to. */
  stdin?: boolean;
}

export function execIn(target: ProbeTarget, command: string[], options: ExecOptions = {}): ChildProcess {
  const user = target.user ? ["-S", String(target.user.uid), "-G", String(target.user.gid)] : [];
  return spawn(
    "nsenter",
    ["-t", String(target.pid), "-m", "-p", "-u", "-r", "-w", ...user, "--", ...command],
    {
      env: Object.fromEntries(target.env),
      stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    },
  );
}
