// What starting a container needs, decided as a pure function of the pod, the container, the objects
// it refers to and its image: its argv, environment, working directory and identity — or why it
// cannot start, with the kubelet's reason (retried when a missing object may still appear).
//
// In the kubelet's order: env (CreateContainerConfigError), runAsNonRoot against the image's user
// (CreateContainerConfigError), then what containerd refuses when it makes the container
// (CreateContainerError): no command at all, a user the image does not know. `$(VAR)` in command
// and args is expanded over the container's env only, as the kubelet does; the image's Entrypoint
// and Cmd never are.
//
// Host-mirror mode (the image is not in local storage) has a stand-in image config: PATH with the
// kubelet's Node first (`node` is Node 24, as in node:24), root as the user, a passwd with only
// root, and no Entrypoint or Cmd — so a container without a command cannot run there.
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { capabilityNumbers } from "../../lib/container/capabilities.ts";
import type { ProcessIdentity } from "../../lib/container/container-init.ts";
import { expand } from "../../lib/container/expand.ts";
import {
  DEFAULT_PATH,
  type ImageConfig,
  type ImageFiles,
  processArgs,
  processEnv,
  resolveUser,
  verifyRunAsNonRoot,
  withHome,
  workingDir,
} from "../../lib/container/image-config.ts";
import { type EnvInputs, resolveEnv } from "./env.ts";
import { resolveSecurity, who } from "./security.ts";

export interface ContainerPlan {
  argv: string[];
  env: Map<string, string>;
  workingDir: string;
  identity: ProcessIdentity;
  readOnlyRootFilesystem: boolean;
}

export type PlanResult =
  | { ok: true; plan: ContainerPlan }
  | { ok: false; reason: string; message: string; retry: boolean };

/** The image a container runs in: its config and user files; undefined for host-mirror mode. */
export interface PlanImage {
  config: ImageConfig;
  files: ImageFiles;
}

export interface PlanRuntime {
  hostname: string;
  /** The container's ID, as containerd names it in its messages. */
  containerId: string;
  image: PlanImage | undefined;
  /** Host-mirror mode: the directory of the Node that runs the kubelet, first on PATH. */
  nodeDir: string;
}

/**
 * The message of a container whose process never started (containerd 2 + runc 1.2: reason StartError,
 * exit code 128), around what runc's init said (e.g. `exec: "kiln": executable file not found in $PATH`).
 */
export function startErrorMessage(cause: string): string {
  return (
    "failed to create containerd task: failed to create shim task: OCI runtime create failed: " +
    `runc create failed: unable to start container process: error during container init: ${cause}: unknown`
  );
}

/** The image config host-mirror mode stands in with. */
export function hostMirrorImage(nodeDir: string): PlanImage {
  return {
    config: { Env: [`PATH=${nodeDir}:${DEFAULT_PATH}`] },
    files: { passwd: "root:x:0:0:root:/root:/bin/sh\n" },
  };
}

export function planContainer(
  pod: V1Pod,
  c: V1Container,
  inputs: EnvInputs,
  runtime: PlanRuntime,
): PlanResult {
  const env = resolveEnv(pod, c, inputs);
  // A Secret or ConfigMap may still be created: the kubelet keeps trying.
  if (!env.ok) return { ...env, retry: true };
  const sec = resolveSecurity(pod, c);
  const image = runtime.image ?? hostMirrorImage(runtime.nodeDir);
  // In host-mirror mode the image's user is unknown: taken to be root, so runAsNonRoot needs runAsUser.
  const nonRoot = verifyRunAsNonRoot(sec, image.config, who(pod, c));
  if (nonRoot) return { ok: false, reason: "CreateContainerConfigError", message: nonRoot, retry: false };
  const vars = new Map(env.env);
  const lookup = (name: string) => vars.get(name);
  const command = (c.command ?? []).map((s) => expand(s, lookup));
  const args = (c.args ?? []).map((s) => expand(s, lookup));
  const createError = (message: string): PlanResult => ({
    ok: false,
    reason: "CreateContainerError",
    message,
    retry: false,
  });
  if (!runtime.image && command.length === 0) {
    return createError(
      `container "${c.name}" has no command and image "${c.image ?? ""}" is not in this node's local ` +
        "container storage: in host-mirror mode the process kubelet cannot know the image's entrypoint",
    );
  }
  const argv = processArgs(command, args, image.config);
  if (!argv.ok) {
    return createError(
      `failed to generate container "${runtime.containerId}" spec: failed to generate spec: ${argv.message}`,
    );
  }
  const user = resolveUser(sec, image.config, image.files);
  if (!user.ok) return createError(`failed to create containerd container: ${user.message}`);
  const { uid, gid, groups } = user.value;
  const capabilities = capabilityNumbers(sec.capabilities);
  return {
    ok: true,
    plan: {
      argv: argv.value,
      env: withHome(processEnv(image.config, env.env, runtime.hostname), uid, image.files),
      workingDir: workingDir(c.workingDir, image.config),
      identity: { uid, gid, groups, capabilities },
      readOnlyRootFilesystem: sec.readOnlyRootFilesystem,
    },
  };
}
