// The process kubelet: a node agent that watches Pods through the API server like any client,
// binds the unscheduled ones to itself, runs them with PodWorker and writes their status through
// pods/status with conflict retries. It is not part of the API server; it only hands the server a
// pod-log source when running in the same process.

import { type ChildProcess, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import type { KubeConfig } from "@kubernetes/client-node";
import { containerInit } from "../../lib/container/container-init.ts";
import { resizeTerminal } from "../../lib/container/enter.ts";
import { ImageStore } from "../../lib/container/image-store.ts";
import { type Logger, silentLogger } from "../../lib/log.ts";
import type { ExecSession, PodExecHandler } from "../apiserver/exec.ts";
import { createApi, HttpError } from "./client.ts";
import { EventRecorder } from "./events.ts";
import { type ExecOptions, execIn } from "./exec.ts";
import { type LogReadOptions, LogStore } from "./logs.ts";
import {
  fetchObjects,
  nodeCredentials,
  nodeLabels,
  type RawPod,
  registerNode,
  requestToken,
} from "./node-api.ts";
import { PodWatcher } from "./pod-watcher.ts";
import { PodWorker, type WorkerDeps } from "./pod-worker.ts";
import { schedule } from "./schedule.ts";
import { StatusWriter } from "./status-writer.ts";

export { nodeCredentials } from "./node-api.ts";

export type PodLogSource = (
  namespace: string,
  pod: string,
  container: string,
  options: LogReadOptions,
) => Readable | undefined;

export interface KubeletOptions {
  kubeConfig: KubeConfig;
  nodeName?: string;
  /** The in-process API server's hook for pods/log (unset again on stop). */
  setPodLogSource?: (source: PodLogSource | undefined) => void;
  /** The in-process API server's hook for pods/exec (`kubectl exec`; unset again on stop). */
  setPodExecHandler?: (handler: PodExecHandler | undefined) => void;
  log?: Logger;
  /** When a projected token is renewed; the kubelet's rule (80% of its lifetime) by default. */
  tokenRefreshMs?: (expirationSeconds: number) => number;
  /** Crash-loop back-off; the kubelet's is 10 s doubling to 5 min. */
  backoff?: { initialMs: number; maxMs: number };
  retryMs?: number;
}

export interface Kubelet {
  nodeName: string;
  dataDir: string;
  /**
   * Runs a command in a running container (what pods/exec needs), or undefined when the pod or
   * container is not running here; with `tty`, in a terminal (resize it with resizeTerminal).
   */
  exec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    options?: ExecOptions,
  ): ChildProcess | undefined;
  stop(): Promise<void>;
}

const TERMINAL = new Set(["Succeeded", "Failed"]);

export async function startKubelet(options: KubeletOptions): Promise<Kubelet> {
  const nodeName = options.nodeName ?? "process-kubelet";
  const bwrap = spawnSync("bwrap", ["--version"], { encoding: "utf8" });
  if (bwrap.error || bwrap.status !== 0) {
    throw new Error(
      "the process kubelet needs bubblewrap (bwrap) to sandbox containers: apt-get install bubblewrap " +
        `(${bwrap.error?.message ?? bwrap.stderr})`,
    );
  }
  const log = (options.log ?? silentLogger()).child({ component: "process-kubelet", node: nodeName });
  containerInit(); // built now (once per machine), so a missing compiler fails here, not in a pod
  const images = new ImageStore({ log });
  // A node with a token of its own, as a kubelet: a ServiceAccount in kube-system and a TokenRequest
  // token, made with the given (admin) kubeconfig.
  const kubeConfig = await nodeCredentials(options.kubeConfig, nodeName);
  const api = createApi(kubeConfig);
  // Volumes and logs; hidden from every container, removed on stop.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-kubelet-"));
  const logs = new LogStore(path.join(dataDir, "logs"));
  const statusWriter = new StatusWriter(api, log);
  const events = new EventRecorder(api, nodeName, log);
  const workers = new Map<string, PodWorker>(); // by pod uid
  const terminating = new Set<string>();
  const deps: WorkerDeps = {
    nodeName,
    podIP: "127.0.0.1",
    hostIP: "127.0.0.1",
    apiServer: { host: api.server.hostname, port: Number(api.server.port || 443) },
    allocatable: { cpu: os.cpus().length, memory: os.totalmem(), "ephemeral-storage": 100 * 2 ** 30 },
    dataDir,
    logs,
    images,
    nodeDir: path.dirname(fs.realpathSync(process.execPath)),
    fetchObjects: (pod) => fetchObjects(api, pod),
    token: (pod, request) => requestToken(api, pod, request),
    publish: (w) => statusWriter.publish(w),
    event: (pod, e) => events.record(pod, e),
    flush: (w) => statusWriter.flush(w),
    backoff: options.backoff ?? { initialMs: 10_000, maxMs: 300_000 },
    tokenRefreshMs: options.tokenRefreshMs ?? ((seconds) => seconds * 800),
    retryMs: options.retryMs ?? 2_000,
    log,
  };
  options.setPodLogSource?.((namespace, pod, container, opts) => logs.read(namespace, pod, container, opts));
  /** Runs a command in a running container of a pod of this node (undefined when there is none). */
  const exec = (namespace: string, pod: string, container: string, command: string[], opts?: ExecOptions) => {
    const worker = [...workers.values()].find(
      (w) => w.pod.metadata?.namespace === namespace && w.pod.metadata?.name === pod,
    );
    const target = worker?.execTarget(container);
    return target && execIn(target, command, opts);
  };
  options.setPodExecHandler?.((request) => {
    const child = exec(request.namespace, request.pod, request.container, request.command, {
      stdin: request.stdin,
      tty: request.tty,
    });
    return child && execSession(child, request.tty);
  });
  /** Undoes what start-up did so far, when it fails (a 403 from the API server, say). */
  const abandon = async (error: unknown): Promise<never> => {
    options.setPodLogSource?.(undefined);
    options.setPodExecHandler?.(undefined);
    statusWriter.close();
    api.close();
    await images.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  };
  await registerNode(api, nodeName, deps, log).catch(abandon);
  let bindingSupported = true;

  const mine = (pod: RawPod) => !pod.spec?.nodeName || pod.spec.nodeName === nodeName;

  async function bind(pod: RawPod): Promise<void> {
    if (!bindingSupported || pod.spec?.nodeName) return;
    const { namespace, name } = pod.metadata;
    try {
      await api.request("POST", `/api/v1/namespaces/${namespace}/pods/${name}/binding`, {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name, namespace },
        target: { apiVersion: "v1", kind: "Node", name: nodeName },
      });
      pod.spec!.nodeName = nodeName;
    } catch (error) {
      if (error instanceof HttpError && (error.code === 404 || error.code === 405)) {
        bindingSupported = false;
        log.warn("the API server has no pods/binding: pods run unbound (deletion is then immediate)");
      } else throw error;
    }
  }

  /** Runs beside the pod's event chain, so a later, shorter grace period is seen while it waits. */
  function finishDeletion(pod: RawPod, worker: PodWorker | undefined): void {
    const { uid } = pod.metadata;
    const grace = (pod.metadata as { deletionGracePeriodSeconds?: number }).deletionGracePeriodSeconds ?? 30;
    if (terminating.has(uid)) {
      // Deleted again with a shorter grace period: the termination under way speeds up.
      void worker?.stop("deleted", grace * 1000);
      return;
    }
    terminating.add(uid);
    void terminateAndDelete(pod, worker, grace);
  }

  async function terminateAndDelete(
    pod: RawPod,
    worker: PodWorker | undefined,
    grace: number,
  ): Promise<void> {
    const { namespace, name, uid } = pod.metadata;
    try {
      if (worker) await worker.terminate(grace * 1000);
      await api
        .request("DELETE", `/api/v1/namespaces/${namespace}/pods/${name}`, {
          apiVersion: "v1",
          kind: "DeleteOptions",
          gracePeriodSeconds: 0,
          preconditions: { uid },
        })
        .catch((error) => {
          if (!(error instanceof HttpError && (error.code === 404 || error.code === 409))) throw error;
        });
    } catch (error) {
      terminating.delete(uid);
      log.warn(
        { err: error, namespace, name },
        "finishing pod deletion failed; will retry on the next event",
      );
    }
  }

  function gone(uid: string): void {
    const worker = workers.get(uid);
    if (!worker) return;
    workers.delete(uid);
    terminating.delete(uid);
    void worker
      .terminate(0)
      .catch(() => {})
      .finally(() => {
        statusWriter.forget(worker);
        events.forget(uid);
        worker.cleanUp();
      });
  }

  async function sync(type: string, pod: RawPod): Promise<void> {
    const uid = pod.metadata.uid;
    if (type === "DELETED") return gone(uid);
    if (!mine(pod)) return;
    let worker = workers.get(uid);
    if (worker) worker.update(pod);
    if (pod.metadata.deletionTimestamp) return finishDeletion(pod, worker);
    if (worker) return;
    if (TERMINAL.has(pod.status?.phase ?? "")) return;
    if (!pod.spec?.nodeName) {
      // Bind only what kube-scheduler would place on this node; the rest stays Pending.
      const verdict = schedule(pod, { labels: nodeLabels(nodeName), allocatable: deps.allocatable });
      if (!verdict.fits) {
        if ("message" in verdict && (await statusWriter.markUnschedulable(pod, verdict.message))) {
          events.record(pod, { type: "Warning", reason: "FailedScheduling", message: verdict.message });
        }
        return;
      }
    }
    await bind(pod);
    if (pod.status?.startTime) {
      // Started by an earlier kubelet process whose processes died with it.
      await statusWriter.markLost(pod);
      return;
    }
    worker = new PodWorker(pod, deps, new Date());
    workers.set(uid, worker);
    log.info({ namespace: pod.metadata.namespace, name: pod.metadata.name }, "pod admitted");
  }

  // Events of one pod are handled in order; different pods in parallel.
  const chains = new Map<string, Promise<void>>();
  function enqueue(type: string, pod: RawPod): void {
    const uid = pod.metadata.uid;
    const next = (chains.get(uid) ?? Promise.resolve())
      .then(() => sync(type, pod))
      .catch((error) => log.error({ err: error, name: pod.metadata.name }, "pod sync failed"));
    chains.set(uid, next);
    void next.finally(() => {
      if (chains.get(uid) === next) chains.delete(uid);
    });
  }

  const watcher = new PodWatcher(kubeConfig, api, log, enqueue, (uids) => {
    for (const uid of [...workers.keys()]) if (!uids.has(uid)) gone(uid);
  });
  await watcher.start().catch(abandon);

  return {
    nodeName,
    dataDir,
    exec,
    async stop() {
      watcher.stop();
      options.setPodLogSource?.(undefined);
      options.setPodExecHandler?.(undefined);
      await Promise.all([...workers.values()].map((w) => w.kill()));
      await Promise.all([...workers.values()].map((w) => w.done));
      // Final statuses get a moment to land; then nothing is retried any more.
      await Promise.race([
        Promise.all([...workers.values()].map((w) => statusWriter.flush(w))),
        new Promise((r) => setTimeout(r, 2_000).unref()),
      ]);
      statusWriter.close();
      api.close();
      logs.closeAll();
      await images.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A process started in a container as the API server's exec endpoint streams it. */
function execSession(child: ChildProcess, tty: boolean): ExecSession {
  return {
    ...(tty ? { resize: (columns: number, rows: number) => resizeTerminal(child, columns, rows) } : {}),
    ...(child.stdin ? { stdin: child.stdin } : {}),
    ...(child.stdout ? { stdout: child.stdout } : {}),
    ...(child.stderr ? { stderr: child.stderr } : {}),
    exit: new Promise<number>((resolve) => {
      child.once("error", () => resolve(126));
      child.once("close", (code, signal) =>
        resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)),
      );
    }),
    kill: () => child.kill("SIGKILL"),
  };
}
