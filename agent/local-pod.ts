// What `kiln run --image` runs: the build pod's user containers on a developer's machine, as a pure
// function of the pipeline. The build container is the pod's (the pipeline's image and user, the runner
// as its command, the workspace and the Kiln dir mounted, the same env and securityContext); each
// service is the pod's sidecar (its image, command and args over the image's entrypoint and cmd, env,
// user, the same securityContext) with the same readiness check. All of them share one network, as a
// pod's containers do: a service is on localhost for the steps. The agent's part is played by
// `kiln run` itself, on the host, through the same FIFOs.
import { join } from "node:path";
import { cacheMounts } from "../api/cache.ts";
import {
  buildContainerEnv,
  CONTAINERS,
  type ContainerUser,
  KILN_DIR,
  runnerCommand,
  type UserSecurityContext,
  userSecurity,
  WORKSPACE_DIR,
} from "../api/pod-protocol.ts";
import type { Pipeline } from "./manifest-schema.ts";
import { expandContainer, type ReadyCheck, readyCheck } from "./services.ts";

export interface LocalMount {
  hostPath: string;
  containerPath: string;
}

export interface LocalContainer {
  /** As in the build pod: `build`, `service-<name>`. */
  name: string;
  image: string;
  /** Replaces the image's entrypoint (a pod's `command`); unset: the image's. Already `$(VAR)`-expanded. */
  command?: string[];
  /** Replaces the image's cmd (a pod's `args`). */
  args?: string[];
  /** The container's own env, in order; the image's goes under it. */
  env: [string, string][];
  /** Env after `env` whose values are secrets: engines never put them on a command line. */
  secrets?: [string, string][];
  user?: ContainerUser;
  security: UserSecurityContext;
  workingDir?: string;
  mounts: LocalMount[];
}

export interface LocalService extends LocalContainer {
  ready?: ReadyCheck;
}

export interface LocalPod {
  build: LocalContainer;
  services: LocalService[];
  /** Every port a service listens on or is checked at: what the host must reach on the pod's network. */
  ports: number[];
}

export interface LocalPaths {
  /** The directory whose pipeline runs: the pod's /workspace. */
  workspace: string;
  /** The runner, its FIFOs and the step scripts: the pod's /kiln. */
  kilnDir: string;
  /** The pod's "cache" volume: cache paths outside the workspace are mounted from under it. */
  cacheDir?: string;
}

/** `secrets`: the build container's secret variables (kiln run takes them from its own environment). */
export function localPod(
  pipeline: Pipeline & { image: string },
  paths: LocalPaths,
  secrets: [string, string][] = [],
): LocalPod {
  const mounts: LocalMount[] = [
    { hostPath: paths.workspace, containerPath: WORKSPACE_DIR },
    { hostPath: paths.kilnDir, containerPath: KILN_DIR },
  ];
  if (paths.cacheDir !== undefined) {
    for (const m of cacheMounts(pipeline.cache?.paths ?? []))
      mounts.push({ hostPath: join(paths.cacheDir, m.subPath), containerPath: m.mountPath });
  }
  const build: LocalContainer = {
    name: CONTAINERS.build,
    image: pipeline.image,
    command: runnerCommand(),
    env: buildContainerEnv().map(({ name, value }) => [name, value]),
    ...(secrets.length > 0 && { secrets }),
    ...(pipeline.user && { user: pipeline.user }),
    security: userSecurity(pipeline.user),
    workingDir: WORKSPACE_DIR,
    mounts,
  };
  const services = pipeline.services.map((s): LocalService => {
    const ready = readyCheck(s);
    const expanded = expandContainer({ env: Object.entries(s.env ?? {}), command: s.command, args: s.args });
    return {
      name: `service-${s.name}`,
      image: s.image,
      ...expanded,
      ...(s.user && { user: s.user }),
      security: userSecurity(s.user),
      mounts: [],
      ...(ready && { ready }),
    };
  });
  const ports = new Set<number>();
  for (const s of pipeline.services) for (const p of s.ports ?? []) ports.add(p);
  for (const s of services) if (s.ready && "port" in s.ready) ports.add(s.ready.port);
  return { build, services, ports: [...ports].sort((a, b) => a - b) };
}
