// `kiln run --image --engine bwrap`: the local pod's containers run as the process kubelet runs a
// container in image mode (lib/container/): the image from this machine's container storage (never
// pulled), its root mounted read-only with a writable layer of the container's own, bubblewrap with
// its own mount, pid and uts namespaces on the host's network (so the pod's network is the host's
// loopback), the container init switching to the container's user with its capabilities. What a
// container runs is planned from the image's config exactly as the kubelet plans it (bwrapProcess).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { boundingSet, capabilityNumbers } from "../lib/container/capabilities.ts";
import { spawnInContainer } from "../lib/container/enter.ts";
import { etcHosts } from "../lib/container/etc-hosts.ts";
import {
  type ImageConfig,
  type ImageFiles,
  processArgs,
  processEnv,
  resolveUser,
  type UserSecurity,
  verifyRunAsNonRoot,
  withHome,
  workingDir,
} from "../lib/container/image-config.ts";
import { ImageStore } from "../lib/container/image-store.ts";
import { type ContainerLog, ContainerProcess, type ProcessSpec } from "../lib/container/process.ts";
import { silentLogger } from "../lib/log.ts";
import type { Engine, RunningContainer } from "./engine.ts";
import type { LocalContainer } from "./local-pod.ts";

export interface BwrapImage {
  rootfs: string;
  config: ImageConfig;
  files: ImageFiles;
}

export interface BwrapRun {
  hostname: string;
  /** This container's own directory (its writable layer goes there). */
  containerDir: string;
  /** The pod's /etc/hosts and /etc/resolv.conf on the host. */
  hostsFile: string;
  resolvFile: string;
  /** Names the container's cgroup. */
  id: string;
}

export type BwrapPlan = { ok: true; spec: Omit<ProcessSpec, "log"> } | { ok: false; message: string };

/** What one container runs, from its image config and securityContext, as the kubelet plans it. */
export function bwrapProcess(c: LocalContainer, image: BwrapImage, run: BwrapRun): BwrapPlan {
  const sec: UserSecurity = {
    runAsUser: c.security.runAsUser,
    runAsGroup: c.security.runAsGroup,
    runAsNonRoot: c.security.runAsNonRoot ?? false,
    supplementalGroups: [],
    groupsPolicy: "Merge",
  };
  const nonRoot = verifyRunAsNonRoot(sec, image.config, `(container: ${c.name})`);
  if (nonRoot) return { ok: false, message: nonRoot };
  const argv = processArgs(c.command ?? [], c.args ?? [], image.config);
  if (!argv.ok)
    return { ok: false, message: `${c.name}: ${argv.message} (the image has no entrypoint or cmd)` };
  const user = resolveUser(sec, image.config, image.files);
  if (!user.ok) return { ok: false, message: `${c.name}: ${user.message}` };
  const { uid, gid, groups } = user.value;
  const capabilities = capabilityNumbers(boundingSet({ drop: c.security.capabilities.drop }));
  return {
    ok: true,
    spec: {
      id: run.id,
      command: argv.value,
      identity: { uid, gid, groups, capabilities },
      env: withHome(
        processEnv(image.config, [...c.env, ...(c.secrets ?? [])], run.hostname),
        uid,
        image.files,
      ),
      mounts: [
        ...c.mounts.map((m) => ({ ...m, readOnly: false })),
        { containerPath: "/etc/hosts", hostPath: run.hostsFile, readOnly: false },
        { containerPath: "/etc/resolv.conf", hostPath: run.resolvFile, readOnly: false },
      ],
      workingDir: workingDir(c.workingDir, image.config),
      hostname: run.hostname,
      image: { rootfs: image.rootfs, layerDir: join(run.containerDir, "layer") },
    },
  };
}

export interface BwrapEngineOptions {
  /** The run's own directory (layers, the pod's etc files). */
  runDir: string;
  runId: string;
  hostname?: string;
  store?: ImageStore;
}

export function bwrapEngine(options: BwrapEngineOptions): Engine {
  const store = options.store ?? new ImageStore({ log: silentLogger() });
  const hostname = options.hostname ?? `kiln-${options.runId}`;
  const hostsFile = join(options.runDir, "etc-hosts");
  const resolvFile = join(options.runDir, "etc-resolv.conf");
  writeFileSync(hostsFile, etcHosts("127.0.0.1", hostname));
  // As the kubelet does for a pod without cluster DNS: the node's resolv.conf.
  let resolv = "";
  try {
    resolv = readFileSync("/etc/resolv.conf", "utf8");
  } catch {}
  writeFileSync(resolvFile, resolv);
  const procs: ContainerProcess[] = [];

  return {
    name: "bwrap",
    async start(c: LocalContainer, log: ContainerLog): Promise<RunningContainer> {
      const local = await store.find(c.image);
      if (!local) {
        throw new Error(
          `image ${c.image} is not in this machine's container storage (podman images): --engine bwrap ` +
            "runs local images only; build or pull it with buildah or podman, or use --engine docker|podman",
        );
      }
      const image = {
        rootfs: await store.rootfs(local),
        config: local.config,
        files: await store.userFiles(local),
      };
      const containerDir = join(options.runDir, c.name);
      mkdirSync(containerDir, { recursive: true });
      const id = `kiln-${options.runId}-${c.name}`;
      const plan = bwrapProcess(c, image, { hostname, containerDir, hostsFile, resolvFile, id });
      if (!plan.ok) throw new Error(plan.message);
      const proc = new ContainerProcess({ ...plan.spec, log });
      procs.push(proc);
      const pid = await proc.pid;
      if (pid === undefined) {
        const exit = await proc.exited;
        throw new Error(`${c.name}: ${exit.startError ?? exit.setupError ?? `exited with ${exit.exitCode}`}`);
      }
      const target = {
        pid,
        env: plan.spec.env,
        identity: plan.spec.identity!,
        workingDir: plan.spec.workingDir,
      };
      return {
        exited: proc.exited.then((e) => ({
          exitCode: e.exitCode,
          ...((e.setupError ?? e.startError) && { error: e.setupError ?? e.startError }),
        })),
        exec: (command, timeoutMs) =>
          new Promise((resolve) => {
            const child = spawnInContainer(target, command, { stdin: "ignore", output: "ignore" }, true);
            const timer = setTimeout(() => {
              try {
                process.kill(-child.pid!, "SIGKILL");
              } catch {}
              resolve(124);
            }, timeoutMs);
            child.on("error", () => resolve(127));
            child.on("close", (code) => {
              clearTimeout(timer);
              resolve(code ?? 137);
            });
          }),
        shell: `nsenter -t ${pid} -m -u -p -r -w sh`,
      };
    },
    async address(port: number) {
      // The sandboxes share the host's network: the pod's loopback is the host's.
      return { host: "127.0.0.1", port };
    },
    async close(graceMs: number) {
      await Promise.all(procs.map((p) => p.terminate(graceMs)));
      await store.close();
    },
  };
}
