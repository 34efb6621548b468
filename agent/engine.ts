// The container engines of `kiln run --image`: what the run needs of one (start a container of the
// local pod, exec a readiness command in it, reach a port of the pod's network, stop everything), and
// which one to use. docker or podman when asked or found on PATH (in that order); bwrap only when asked:
// it runs images of this machine's container storage with bubblewrap, as root, as the process kubelet
// does (lib/container/).
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import type { ContainerLog } from "../lib/container/process.ts";
import type { LocalContainer } from "./local-pod.ts";

export const ENGINES = ["docker", "podman", "bwrap"] as const;
export type EngineName = (typeof ENGINES)[number];

export interface RunningContainer {
  /** Resolves once it has ended; `error` says why when it failed to run at all (the engine's message). */
  exited: Promise<{ exitCode: number; error?: string }>;
  /** Runs a command inside it, as its user (an exec probe); resolves with the exit code (124: timed out). */
  exec(command: string[], timeoutMs: number): Promise<number>;
  /** How a person gets a shell in it (said when the pipeline pauses). */
  shell: string;
}

export interface Engine {
  readonly name: EngineName;
  /**
   * Starts one container of the local pod and resolves once it runs; rejects with the engine's message
   * when it cannot (no such image, a command that does not exist …). The build container comes first.
   */
  start(container: LocalContainer, log: ContainerLog): Promise<RunningContainer>;
  /** Where the host reaches a port of the pod's network. */
  address(port: number): Promise<{ host: string; port: number }>;
  /** Stops whatever still runs (TERM, KILL after the grace period) and removes what the run made. */
  close(graceMs: number): Promise<void>;
}

/** Whether an executable of that name is on PATH. */
export function onPath(command: string, path = process.env.PATH ?? ""): boolean {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** What --engine bwrap needs: bubblewrap, podman's image storage, util-linux, a C compiler for the init. */
const BWRAP_TOOLS = {
  bwrap: "bubblewrap",
  podman: "podman",
  unshare: "util-linux",
  nsenter: "util-linux",
  cc: "gcc",
};

/** The engine to use, or why there is none (a sentence for the user). */
export function chooseEngine(
  requested: string | undefined,
  has: (command: string) => boolean,
  isRoot: boolean,
): { ok: true; engine: EngineName } | { ok: false; message: string } {
  if (requested !== undefined && !(ENGINES as readonly string[]).includes(requested)) {
    return { ok: false, message: `--engine must be one of ${ENGINES.join(", ")}, not "${requested}"` };
  }
  if (requested === "bwrap") {
    const missing = Object.entries(BWRAP_TOOLS).filter(([command]) => !has(command));
    if (missing.length > 0) {
      const packages = [...new Set(missing.map(([, pkg]) => pkg))].join(" ");
      return {
        ok: false,
        message: `--engine bwrap needs ${missing.map(([c]) => c).join(", ")} on PATH (apt-get install ${packages} libc6-dev)`,
      };
    }
    if (!isRoot) {
      return {
        ok: false,
        message:
          "--engine bwrap runs as root (it mounts the image as the process kubelet does); use docker or podman",
      };
    }
    return { ok: true, engine: "bwrap" };
  }
  if (requested !== undefined) {
    return has(requested)
      ? { ok: true, engine: requested as EngineName }
      : { ok: false, message: `--engine ${requested}: ${requested} is not on PATH` };
  }
  for (const engine of ["docker", "podman"] as const) if (has(engine)) return { ok: true, engine };
  return {
    ok: false,
    message:
      "--image needs docker or podman on PATH, and neither is here (or --engine bwrap: images of this " +
      "machine's container storage with bubblewrap, as root); without --image the steps run in your shell",
  };
}
