// The docker and podman command lines of `kiln run --image`, as pure functions (their CLIs take the
// same words for all of this). The build container is started first and holds the pod's network: it
// publishes every service port on the host's loopback (for the readiness checks) and each service
// joins its network namespace, so a service is on localhost for the steps, as in a pod. A pod's
// `command` is the entrypoint and its `args` the cmd: `--entrypoint` takes command[0] and clears the
// image's cmd, the rest follows the image name — the same rules the kubelet applies.
import type { LocalContainer, LocalPod } from "./local-pod.ts";

export type CliEngine = "docker" | "podman";

/** The label every container of one run carries (and the prefix of their names). */
export const RUN_LABEL = "dev.kiln.run";

export function containerName(runId: string, container: Pick<LocalContainer, "name">): string {
  return `kiln-${runId}-${container.name}`;
}

/** `run` for one container: the build container (publishing the pod's ports) or a service joining it. */
export function runArgs(runId: string, pod: LocalPod, c: LocalContainer): string[] {
  const isBuild = c === pod.build;
  const args = ["run", "--rm", "--name", containerName(runId, c), "--label", `${RUN_LABEL}=${runId}`];
  if (!c.security.allowPrivilegeEscalation) args.push("--security-opt", "no-new-privileges");
  for (const cap of c.security.capabilities.drop) args.push("--cap-drop", cap);
  if (c.user) args.push("--user", c.user.gid === undefined ? `${c.user.uid}` : `${c.user.uid}:${c.user.gid}`);
  if (c.workingDir) args.push("--workdir", c.workingDir);
  for (const [name, value] of c.env) args.push("--env", `${name}=${value}`);
  // A name alone: the engine takes the value from its own environment (engineEnv), off the command line.
  for (const [name] of c.secrets ?? []) args.push("--env", name);
  for (const m of c.mounts) args.push("--volume", `${m.hostPath}:${m.containerPath}`);
  if (isBuild) {
    for (const port of pod.ports) args.push("--publish", `127.0.0.1::${port}`);
  } else {
    args.push("--network", `container:${containerName(runId, pod.build)}`);
  }
  if (c.command) args.push("--entrypoint", c.command[0]!);
  args.push(c.image, ...(c.command?.slice(1) ?? []), ...(c.args ?? []));
  return args;
}

/** The engine's own environment for `run`: ours, with the container's secrets (see runArgs). */
export function engineEnv(c: LocalContainer, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...base, ...Object.fromEntries(c.secrets ?? []) };
}

/** Prints `true` once the container runs (fails while it does not exist yet). */
export function runningArgs(runId: string, c: LocalContainer): string[] {
  return ["container", "inspect", "--format", "{{.State.Running}}", containerName(runId, c)];
}

/** An exec probe: the command inside the running container, as its user. */
export function execArgs(runId: string, c: LocalContainer, command: string[]): string[] {
  return ["exec", containerName(runId, c), ...command];
}

/** Where the host reaches a port of the pod's network (published by the build container). */
export function portArgs(runId: string, pod: LocalPod, port: number): string[] {
  return ["port", containerName(runId, pod.build), `${port}/tcp`];
}

/** The first address `docker port` printed (`127.0.0.1:49153`), or undefined. */
export function parsePort(output: string): { host: string; port: number } | undefined {
  const m = /^(\S+):(\d+)$/m.exec(output.trim());
  if (!m) return undefined;
  return { host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port: Number(m[2]) };
}

/** TERM, then KILL after the grace period (whole seconds, at least one). */
export function stopArgs(runId: string, containers: LocalContainer[], graceMs: number): string[] {
  const seconds = Math.max(1, Math.ceil(graceMs / 1000));
  return ["stop", "--time", String(seconds), ...containers.map((c) => containerName(runId, c))];
}

/** Whatever of the run is left (they are started with --rm; this is for a run that was interrupted). */
export function removeArgs(runId: string, containers: LocalContainer[]): string[] {
  return ["rm", "--force", ...containers.map((c) => containerName(runId, c))];
}

/** How to get a shell in a container while the pipeline is paused. */
export function shellHint(engine: CliEngine, runId: string, c: LocalContainer): string {
  return `${engine} exec -it ${containerName(runId, c)} sh`;
}
