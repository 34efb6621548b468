// What a container runs, as a pure function of its spec and environment. Images are ignored, so
// the container's `command` must be given; `$(VAR)` in command and args is expanded over the
// container's env. Kiln's own CLI (`kiln …`, or any path ending in /kiln) is this checkout's
// bin/kiln.ts run by the Node that runs the kubelet, so Kiln's pods run the code under test.
import * as path from "node:path";
import type { V1Container } from "@kubernetes/client-node";
import { expand } from "./expand.ts";

export interface KilnCli {
  node: string; // process.execPath
  script: string; // <checkout>/bin/kiln.ts
}

export type Argv = { ok: true; argv: string[] } | { ok: false; reason: string; message: string };

export function containerArgv(container: V1Container, env: ReadonlyMap<string, string>, kiln: KilnCli): Argv {
  const command = container.command ?? [];
  if (command.length === 0) {
    return {
      ok: false,
      reason: "CreateContainerError",
      message:
        `container "${container.name}" has no command: the process kubelet ignores images ` +
        `(${container.image ?? "no image"}), so it cannot know the entrypoint`,
    };
  }
  const lookup = (name: string) => env.get(name);
  const argv = [...command, ...(container.args ?? [])].map((s) => expand(s, lookup));
  const [first, ...rest] = argv as [string, ...string[]];
  if (first === "kiln" || path.posix.basename(first) === "kiln") {
    return { ok: true, argv: [kiln.node, kiln.script, ...rest] };
  }
  return { ok: true, argv };
}

/** The environment a container process gets beyond the pod's: what an image and runtime add. */
export function runtimeEnv(
  env: [string, string][],
  hostname: string,
  nodeDir: string,
  uid = 0,
): Map<string, string> {
  const out = new Map<string, string>([
    // A container image's PATH, with this Node first (`node` in a step is Node 24, like node:24).
    ["PATH", `${nodeDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`],
    ["HOSTNAME", hostname],
    // What a runtime sets for a user without a passwd entry in the image.
    ["HOME", uid === 0 ? "/root" : "/"],
  ]);
  for (const [k, v] of env) out.set(k, v);
  return out;
}
