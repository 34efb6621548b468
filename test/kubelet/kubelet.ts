// The process kubelet: a node agent that watches Pods through the API server like any client,
// binds the unscheduled ones to itself, runs them with PodWorker and writes their status through
// pods/status with conflict retries. It is not part of the API server; it only hands the server a
// pod-log source when running in the same process.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import type { V1Pod, V1PodStatus } from "@kubernetes/client-node";
import { KubeConfig, Watch } from "@kubernetes/client-node";
import { type Logger, silentLogger } from "../../lib/log.ts";
import { type Api, createApi, HttpError } from "./client.ts";
import { referencedObjects } from "./env.ts";
import { type LogReadOptions, LogStore } from "./logs.ts";
import { type PodEvent, PodWorker, type WorkerDeps } from "./pod-worker.ts";
import { computePodStatus } from "./status.ts";
import type { ObjectBytes } from "./volumes.ts";

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
  /**
   * Act as a node with a token of its own (default): a `process-kubelet` ServiceAccount in
   * kube-system and a TokenRequest token, made with the given (admin) kubeconfig.
   */
  ownIdentity?: boolean;
  /** Where volumes and logs live; a fresh temp dir (removed on stop) by default. */
  dataDir?: string;
  log?: Logger;
  /** Crash-loop back-off; the kubelet's is 10 s doubling to 5 min. */
  backoff?: { initialMs: number; maxMs: number };
  retryMs?: number;
  /** Kiln's CLI as containers run it; this checkout's bin/kiln.ts by default. */
  kilnScript?: string;
  logMaxBytes?: number;
}

export interface Kubelet {
  nodeName: string;
  dataDir: string;
  stop(): Promise<void>;
}

type RawPod = V1Pod & { metadata: { name: string; namespace: string; uid: string } };

const TERMINAL = new Set(["Succeeded", "Failed"]);

export async function startKubelet(options: KubeletOptions): Promise<Kubelet> {
  const nodeName = options.nodeName ?? "process-kubelet";
  const log = (options.log ?? silentLogger()).child({ component: "process-kubelet", node: nodeName });
  const kubeConfig =
    (options.ownIdentity ?? true) ? await nodeCredentials(options.kubeConfig, nodeName) : options.kubeConfig;
  const api = createApi(kubeConfig);
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "kiln-kubelet-"));
  const logs = new LogStore(path.join(dataDir, "logs"), options.logMaxBytes);
  const statusWriter = new StatusWriter(api, log);
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
    kiln: {
      node: process.execPath,
      script: options.kilnScript ?? path.resolve(import.meta.dirname, "../../bin/kiln.ts"),
    },
    fetchObjects: (pod) => fetchObjects(api, pod),
    token: (pod, request) => requestToken(api, pod, request),
    publish: (w) => statusWriter.publish(w),
    event: (pod, e) => recordEvent(api, nodeName, pod, e, log),
    flush: (w) => statusWriter.flush(w),
    backoff: options.backoff ?? { initialMs: 10_000, maxMs: 300_000 },
    retryMs: options.retryMs ?? 2_000,
    log,
  };
  options.setPodLogSource?.((namespace, pod, container, opts) => logs.read(namespace, pod, container, opts));
  await registerNode(api, nodeName, deps, log);
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
  await watcher.start();

  return {
    nodeName,
    dataDir,
    async stop() {
      watcher.stop();
      options.setPodLogSource?.(undefined);
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
      if (ownDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** List then watch all pods, relisting after any error (410 included) with capped back-off. */
class PodWatcher {
  private stopped = false;
  private abort: AbortController | undefined;
  private resourceVersion = "";
  private delay = 200;
  private readonly kc: KubeConfig;
  private readonly api: Api;
  private readonly log: Logger;
  private readonly handle: (type: string, pod: RawPod) => void;
  private readonly listed: (uids: Set<string>) => void;

  constructor(
    kc: KubeConfig,
    api: Api,
    log: Logger,
    handle: (type: string, pod: RawPod) => void,
    listed: (uids: Set<string>) => void,
  ) {
    this.kc = kc;
    this.api = api;
    this.log = log;
    this.handle = handle;
    this.listed = listed;
  }

  async start(): Promise<void> {
    await this.list();
    void this.watch();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private async list(): Promise<void> {
    const list = await this.api.request<{ metadata: { resourceVersion: string }; items: RawPod[] }>(
      "GET",
      "/api/v1/pods",
    );
    this.resourceVersion = list.metadata.resourceVersion;
    this.listed(new Set(list.items.map((p) => p.metadata.uid)));
    for (const pod of list.items) this.handle("ADDED", pod);
  }

  private async watch(): Promise<void> {
    while (!this.stopped) {
      const ended = new Promise<unknown>((resolve) => {
        void new Watch(this.kc)
          .watch(
            "/api/v1/pods",
            { resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
            (type, obj) => {
              if (type === "ERROR") {
                resolve(new HttpError((obj as { code?: number }).code ?? 500, obj));
                return;
              }
              const rv = (obj as RawPod).metadata?.resourceVersion;
              if (rv) this.resourceVersion = rv;
              if (type === "BOOKMARK") return;
              this.delay = 200;
              this.handle(type, obj as RawPod);
            },
            (err) => resolve(err),
          )
          .then((abort) => {
            this.abort = abort;
            if (this.stopped) abort.abort();
          });
      });
      const err = await ended;
      this.abort?.abort();
      if (this.stopped) return;
      const expired = err instanceof HttpError && err.code === 410;
      if (err && !expired) this.log.debug({ err }, "pod watch ended; restarting");
      if (err) {
        await new Promise((r) => setTimeout(r, this.delay));
        this.delay = Math.min(this.delay * 2, 5_000);
        try {
          await this.list();
        } catch (error) {
          this.log.warn({ err: error }, "listing pods failed");
        }
      }
    }
  }
}

/** Coalesced status writes per pod, one in flight at a time, retried on conflicts. */
class StatusWriter {
  private readonly pending = new Map<PodWorker, Promise<void>>();
  private readonly dirty = new Set<PodWorker>();
  private readonly written = new WeakMap<PodWorker, V1PodStatus>();
  private readonly api: Api;
  private readonly log: Logger;

  constructor(api: Api, log: Logger) {
    this.api = api;
    this.log = log;
  }

  publish(worker: PodWorker): void {
    if (this.closed) return;
    this.dirty.add(worker);
    if (!this.pending.has(worker)) {
      const run = this.drain(worker).finally(() => this.pending.delete(worker));
      this.pending.set(worker, run);
    }
  }

  async flush(worker: PodWorker): Promise<void> {
    while (this.pending.has(worker)) await this.pending.get(worker);
  }

  forget(worker: PodWorker): void {
    this.dirty.delete(worker);
  }

  private closed = false;

  close(): void {
    this.closed = true;
    this.dirty.clear();
  }

  private async drain(worker: PodWorker): Promise<void> {
    await Promise.resolve(); // coalesce changes made in the same tick
    while (this.dirty.has(worker) && !this.closed) {
      this.dirty.delete(worker);
      try {
        await this.write(worker.pod as RawPod, (previous) => {
          const status = computePodStatus(worker.pod, worker.record, previous, new Date());
          this.written.set(worker, status);
          return status;
        });
      } catch (error) {
        this.log.warn({ err: error, name: worker.pod.metadata?.name }, "writing pod status failed");
        if (!(error instanceof HttpError && error.code === 404)) {
          await new Promise((r) => setTimeout(r, 500));
          this.dirty.add(worker);
        }
      }
    }
  }

  /** PUT pods/status with the pod's resourceVersion; on 409 read it again and recompute. */
  async write(pod: RawPod, compute: (previous: V1PodStatus | undefined) => V1PodStatus): Promise<void> {
    const { namespace, name, uid } = pod.metadata;
    const url = `/api/v1/namespaces/${namespace}/pods/${name}`;
    let current: RawPod | undefined = pod;
    for (let attempt = 0; attempt < 10; attempt++) {
      if (!current || current.metadata.uid !== uid) return;
      const body = { ...current, status: compute(current.status) };
      try {
        await this.api.request("PUT", `${url}/status`, body);
        return;
      } catch (error) {
        if (!(error instanceof HttpError && error.code === 409)) throw error;
      }
      current = await this.api.get<RawPod>(url);
    }
    throw new Error(`pod ${namespace}/${name}: status still conflicting after 10 attempts`);
  }

  /** A pod an earlier kubelet process started: its processes are gone, so it failed. */
  async markLost(pod: RawPod): Promise<void> {
    await this.write(pod, (previous) => {
      const now = new Date();
      const lost = (s: { name: string }) => ({
        ...s,
        ready: false,
        state: {
          terminated: {
            exitCode: 137,
            reason: "Error",
            message: "the process kubelet restarted; this container's processes are gone",
            finishedAt: now,
          },
        },
      });
      return {
        ...previous,
        phase: "Failed",
        reason: "NodeLost",
        message: "the process kubelet that ran this pod restarted and lost its processes",
        containerStatuses: (previous?.containerStatuses ?? []).map(lost),
        initContainerStatuses: previous?.initContainerStatuses ?? [],
      } as V1PodStatus;
    });
  }
}

async function fetchObjects(
  api: Api,
  pod: V1Pod,
): Promise<{ secrets: Map<string, ObjectBytes>; configMaps: Map<string, ObjectBytes> }> {
  const namespace = pod.metadata?.namespace ?? "default";
  const refs = referencedObjects(pod);
  const secrets = new Map<string, ObjectBytes>();
  const configMaps = new Map<string, ObjectBytes>();
  await Promise.all([
    ...[...refs.secrets].map(async (name) => {
      const s = await api.get<{ data?: Record<string, string> }>(
        `/api/v1/namespaces/${namespace}/secrets/${name}`,
      );
      secrets.set(
        name,
        s && Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64")])),
      );
    }),
    ...[...refs.configMaps].map(async (name) => {
      const c = await api.get<{ data?: Record<string, string>; binaryData?: Record<string, string> }>(
        `/api/v1/namespaces/${namespace}/configmaps/${name}`,
      );
      configMaps.set(
        name,
        c && {
          ...Object.fromEntries(Object.entries(c.data ?? {}).map(([k, v]) => [k, Buffer.from(v)])),
          ...Object.fromEntries(
            Object.entries(c.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64")]),
          ),
        },
      );
    }),
  ]);
  return { secrets, configMaps };
}

async function requestToken(
  api: Api,
  pod: V1Pod,
  request: { audience?: string; expirationSeconds: number },
): Promise<string> {
  const namespace = pod.metadata?.namespace ?? "default";
  const account = pod.spec?.serviceAccountName ?? "default";
  const response = await api.request<{ status?: { token?: string } }>(
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`,
    {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: {
        ...(request.audience ? { audiences: [request.audience] } : {}),
        expirationSeconds: request.expirationSeconds,
        boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata?.name, uid: pod.metadata?.uid },
      },
    },
  );
  const token = response.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${account} returned no token`);
  return token;
}

/** Registers the Node when the server serves nodes (optional: the test server may not). */
async function registerNode(api: Api, nodeName: string, deps: WorkerDeps, log: Logger): Promise<void> {
  const now = new Date().toISOString();
  const capacity = {
    cpu: String(deps.allocatable.cpu),
    memory: `${Math.floor(deps.allocatable.memory / 1024)}Ki`,
    pods: "110",
  };
  try {
    await api.request("POST", "/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: nodeName,
        labels: {
          "kubernetes.io/hostname": nodeName,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": os.arch(),
        },
      },
      status: {
        addresses: [
          { type: "InternalIP", address: deps.hostIP },
          { type: "Hostname", address: nodeName },
        ],
        capacity,
        allocatable: capacity,
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "KubeletReady",
            message: "process kubelet is posting ready status",
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
        nodeInfo: {
          kubeletVersion: "kiln-process-kubelet",
          operatingSystem: "linux",
          architecture: os.arch(),
        },
      },
    });
  } catch (error) {
    if (error instanceof HttpError && (error.code === 404 || error.code === 405)) {
      log.info("the API server serves no nodes; running without a Node object");
    } else if (!(error instanceof HttpError && error.code === 409)) throw error;
  }
}

/** Alias kept for callers that hand over the in-process server handle. */
export async function startProcessKubelet(
  options: Omit<KubeletOptions, "log" | "setPodLogSource"> & {
    server: { setPodLogSource(source: PodLogSource | undefined): void };
    logger?: Logger;
  },
): Promise<Kubelet> {
  const { server, logger, ...rest } = options;
  return startKubelet({
    ...rest,
    setPodLogSource: (source) => server.setPodLogSource(source),
    ...(logger ? { log: logger } : {}),
  });
}

/** A kubeconfig for the same cluster with a ServiceAccount token of the kubelet's own. */
export async function nodeCredentials(admin: KubeConfig, name: string): Promise<KubeConfig> {
  const api = createApi(admin);
  const namespace = "kube-system";
  await api
    .request("POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name },
    })
    .catch((error) => {
      if (!(error instanceof HttpError && error.code === 409)) throw error;
    });
  const response = await api.request<{ status?: { token?: string } }>(
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 7 * 24 * 3600 },
    },
  );
  const token = response.status?.token;
  if (!token) throw new Error("TokenRequest for the kubelet's ServiceAccount returned no token");
  const cluster = admin.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token }],
    contexts: [{ name, cluster: cluster.name, user: name }],
    currentContext: name,
  });
  return kc;
}

/** A core/v1 Event about a pod, as the kubelet reports it (not aggregated: one object per event). */
function recordEvent(api: Api, nodeName: string, pod: V1Pod, e: PodEvent, log: Logger): void {
  const { namespace = "default", name = "", uid } = pod.metadata ?? {};
  const now = new Date().toISOString();
  const body = {
    apiVersion: "v1",
    kind: "Event",
    metadata: {
      name: `${name}.${Date.now().toString(16)}${Math.random().toString(16).slice(2, 8)}`,
      namespace,
    },
    involvedObject: {
      apiVersion: "v1",
      kind: "Pod",
      namespace,
      name,
      uid,
      ...(e.fieldPath ? { fieldPath: e.fieldPath } : {}),
    },
    type: e.type,
    reason: e.reason,
    message: e.message,
    source: { component: "kubelet", host: nodeName },
    reportingComponent: "kubelet",
    reportingInstance: nodeName,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
  api.request("POST", `/api/v1/namespaces/${namespace}/events`, body).catch((error) => {
    log.debug({ err: error, reason: e.reason }, "recording an event failed");
  });
}
