// One pod's life on the process kubelet: volumes, init containers in order (native sidecars
// started and left running, gated on their startup probe as in Kubernetes), then the regular
// containers together, restart policies with crash-loop back-off, sidecars stopped when the
// regular containers are done; activeDeadlineSeconds and deletion kill everything.
// Every state change is recorded in `record` and handed to `publish`; the pure computePodStatus
// turns it into the pod's status.
import * as fs from "node:fs";
import * as path from "node:path";
import type { V1Container, V1Pod, V1Probe } from "@kubernetes/client-node";
import { etcHosts } from "../../lib/container/etc-hosts.ts";
import type { ImageStore, LocalImage } from "../../lib/container/image-store.ts";
import { ContainerProcess, type Exit } from "../../lib/container/process.ts";
import type { Mount } from "../../lib/container/sandbox.ts";
import type { Logger } from "../../lib/log.ts";
import { type ContainerPlan, type PlanImage, planContainer, startErrorMessage } from "./container-plan.ts";
import type { EnvInputs } from "./env.ts";
import type { ProbeTarget } from "./exec.ts";
import { runHook } from "./hooks.ts";
import { decideImage, pullPolicy } from "./images.ts";
import type { LogStore } from "./logs.ts";
import { type ProbeKind, probeLoop } from "./probe-loop.ts";
import { parseQuantity } from "./quantity.ts";
import { type ContainerRecord, isSidecar, type PodRecord, terminatedState } from "./status.ts";
import { terminationMessage } from "./termination.ts";
import {
  type ObjectBytes,
  type PreparedVolume,
  prepareVolumes,
  rewriteToken,
  VolumeError,
} from "./volumes.ts";

export interface WorkerDeps {
  nodeName: string;
  podIP: string;
  hostIP: string;
  apiServer: { host: string; port: number };
  allocatable: EnvInputs["allocatable"];
  dataDir: string;
  logs: LogStore;
  /** Local container storage: images present there run in their own root (image mode). */
  images: ImageStore;
  /** The directory of the Node running the kubelet: first on PATH in host-mirror mode. */
  nodeDir: string;
  /** Current Secrets and ConfigMaps the pod refers to (undefined = not found). */
  fetchObjects(
    pod: V1Pod,
  ): Promise<{ secrets: Map<string, ObjectBytes>; configMaps: Map<string, ObjectBytes> }>;
  token(pod: V1Pod, request: { audience?: string; expirationSeconds: number }): Promise<string>;
  /** The record changed: write the pod's status (coalesced by the caller). */
  publish(worker: PodWorker): void;
  /** Records a Kubernetes Event about the pod (fire and forget). */
  event(pod: V1Pod, e: PodEvent): void;
  /** Resolves once everything published so far is written. */
  flush(worker: PodWorker): Promise<void>;
  backoff: { initialMs: number; maxMs: number };
  /** When to refresh a projected token (the kubelet: at 80% of its lifetime). */
  tokenRefreshMs(expirationSeconds: number): number;
  /** How long to wait before retrying a container whose config or volumes are not there yet. */
  retryMs: number;
  log: Logger;
}

export interface PodEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
  /** e.g. spec.containers{build} */
  fieldPath?: string;
}

function fieldPath(pod: V1Pod, name: string): string {
  const init = (pod.spec?.initContainers ?? []).some((c) => c.name === name);
  return `spec.${init ? "initContainers" : "containers"}{${name}}`;
}

type StopReason = "deleted" | "deadline" | "shutdown" | "completed";

export class PodWorker {
  pod: V1Pod;
  readonly record: PodRecord & { containers: Map<string, ContainerRecord> };
  private readonly deps: WorkerDeps;
  private readonly procs = new Map<string, ContainerProcess>();
  private readonly targets = new Map<string, ProbeTarget>();
  private readonly abort = new AbortController();
  private volumes = new Map<string, PreparedVolume>();
  private stopReason: StopReason | undefined;
  private sidecarsStopping = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private stopDeadline: number | undefined;
  private stopping: Promise<void> | undefined;
  readonly done: Promise<void>;
  private readonly podDir: string;
  private instance = 0;

  constructor(pod: V1Pod, deps: WorkerDeps, now: Date) {
    this.pod = pod;
    this.deps = deps;
    const uid = pod.metadata?.uid ?? "";
    this.podDir = path.join(deps.dataDir, "pods", uid);
    this.record = {
      podIP: deps.podIP,
      hostIP: deps.hostIP,
      startTime: pod.status?.startTime ? new Date(pod.status.startTime) : now,
      sandboxReady: false,
      terminal: false,
      containers: new Map(),
    };
    this.done = this.run().catch((error) => {
      deps.log.error({ err: error, pod: this.key }, "pod worker failed");
    });
  }

  get key(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`;
  }

  /** Where `kubectl exec` into a running container goes. */
  execTarget(container: string): ProbeTarget | undefined {
    return this.targets.get(container);
  }

  get isTerminal(): boolean {
    return this.record.terminal;
  }

  private get log(): Logger {
    return this.deps.log.child({ namespace: this.pod.metadata?.namespace, name: this.pod.metadata?.name });
  }

  private event(type: PodEvent["type"], reason: string, message: string, container?: string): void {
    this.deps.event(this.pod, {
      type,
      reason,
      message,
      ...(container ? { fieldPath: fieldPath(this.pod, container) } : {}),
    });
  }

  private changed(): void {
    this.deps.publish(this);
  }

  private stopped(): boolean {
    return this.stopReason !== undefined;
  }

  private async run(): Promise<void> {
    this.armDeadline();
    this.changed();
    if (!(await this.setUpVolumes())) return;
    this.writeEtcFiles();
    this.record.sandboxReady = true;
    this.changed();
    const spec = this.pod.spec!;
    const sidecars: Promise<Exit | undefined>[] = [];
    for (const c of spec.initContainers ?? []) {
      if (this.stopped()) return;
      if (isSidecar(c)) {
        const started = this.whenStarted(c.name);
        sidecars.push(this.runContainer(c, "Always"));
        await started;
        continue;
      }
      // Init containers are retried on failure unless the pod's policy is Never.
      const exit = await this.runContainer(c, spec.restartPolicy === "Never" ? "Never" : "OnFailure");
      if (this.stopped()) return;
      if (exit === undefined || exit.exitCode !== 0) {
        await this.stop("completed", this.graceMs());
        return;
      }
    }
    if (this.stopped()) return;
    const policy = spec.restartPolicy ?? "Always";
    await Promise.all(spec.containers.map((c) => this.runContainer(c, policy)));
    if (this.stopped()) return;
    await this.stop("completed", this.graceMs());
  }

  private graceMs(): number {
    const seconds =
      this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    return seconds * 1000;
  }

  /** The pod object changed (labels, activeDeadlineSeconds …): keep the newest, re-arm the deadline. */
  update(pod: V1Pod): void {
    const before = this.pod.spec?.activeDeadlineSeconds;
    this.pod = pod;
    if (pod.spec?.activeDeadlineSeconds !== before && !this.stopping) {
      clearTimeout(this.deadlineTimer);
      this.armDeadline();
    }
  }

  private armDeadline(): void {
    const seconds = this.pod.spec?.activeDeadlineSeconds;
    if (seconds === undefined) return;
    const remaining = this.record.startTime.getTime() + seconds * 1000 - Date.now();
    this.deadlineTimer = setTimeout(
      () => {
        if (this.record.terminal || this.stopped()) return;
        this.log.info({ activeDeadlineSeconds: seconds }, "pod exceeded its deadline");
        this.event(
          "Normal",
          "DeadlineExceeded",
          "Pod was active on the node longer than the specified deadline",
        );
        this.record.failure = {
          reason: "DeadlineExceeded",
          message: "Pod was active on the node longer than the specified deadline",
        };
        // The kubelet reports the phase at once; the containers are killed after.
        this.changed();
        void this.stop("deadline", this.graceMs());
      },
      Math.max(0, remaining),
    );
  }

  private async setUpVolumes(): Promise<boolean> {
    while (!this.stopped()) {
      try {
        const objects = await this.deps.fetchObjects(this.pod);
        this.volumes = await prepareVolumes(this.pod, path.join(this.podDir, "volumes"), {
          ...objects,
          env: this.envBase(),
          token: (request) => this.deps.token(this.pod, request),
        });
        this.scheduleTokenRefresh();
        return true;
      } catch (error) {
        if (!(error instanceof VolumeError)) this.log.warn({ err: error }, "volume setup failed");
        const message = `MountVolume.SetUp failed: ${(error as Error).message}`;
        this.event("Warning", "FailedMount", message);
        for (const c of [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])]) {
          if (!this.record.containers.has(c.name) || this.record.containers.get(c.name)?.state.waiting) {
            this.setRecord(c.name, { state: { waiting: { reason: "ContainerCreating", message } } });
          }
        }
        this.changed();
        await this.sleep(this.deps.retryMs);
      }
    }
    return false;
  }

  private readonly tokenTimers = new Set<NodeJS.Timeout>();

  /** Projected tokens are renewed before they expire, as the kubelet's token manager does. */
  private scheduleTokenRefresh(): void {
    for (const volume of this.volumes.values()) {
      for (const t of volume.tokens ?? []) {
        const refresh = () => {
          const timer = setTimeout(async () => {
            this.tokenTimers.delete(timer);
            if (this.stopping) return;
            try {
              rewriteToken(
                t,
                await this.deps.token(this.pod, t.request),
                this.pod.spec?.securityContext?.fsGroup,
              );
            } catch (error) {
              this.log.warn({ err: error }, "refreshing a service-account token failed; retrying");
            }
            if (!this.stopping) refresh();
          }, this.deps.tokenRefreshMs(t.request.expirationSeconds));
          timer.unref();
          this.tokenTimers.add(timer);
        };
        refresh();
      }
    }
  }

  private envBase(): Omit<EnvInputs, "secrets" | "configMaps"> {
    return {
      podIP: this.deps.podIP,
      hostIP: this.deps.hostIP,
      nodeName: this.deps.nodeName,
      apiServer: this.deps.apiServer,
      allocatable: this.deps.allocatable,
    };
  }

  private setRecord(name: string, patch: Partial<ContainerRecord>): ContainerRecord {
    const before = this.record.containers.get(name) ?? { name, state: {}, restartCount: 0, ready: false };
    const next = { ...before, ...patch };
    this.record.containers.set(name, next);
    return next;
  }

  private readonly startedWaiters = new Map<string, () => void>();

  private whenStarted(name: string): Promise<void> {
    return new Promise((resolve) => {
      this.startedWaiters.set(name, resolve);
      this.abort.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  private markStarted(name: string): void {
    this.setRecord(name, { started: true });
    this.startedWaiters.get(name)?.();
    this.startedWaiters.delete(name);
  }

  /** Runs a container until the restart policy lets it rest; undefined if it never ran. */
  private async runContainer(c: V1Container, policy: string): Promise<Exit | undefined> {
    let delay = this.deps.backoff.initialMs;
    let last: Exit | undefined;
    while (!this.stopped() && !(isSidecar(c) && this.sidecarsStopping)) {
      const result = await this.runOnce(c);
      if (result === "retry") {
        await this.sleep(this.deps.retryMs);
        continue;
      }
      if (result === "never") return undefined;
      last = result;
      const restart = policy === "Always" || (policy === "OnFailure" && result.exitCode !== 0);
      if (!restart || this.stopped() || (isSidecar(c) && this.sidecarsStopping)) return last;
      const rec = this.record.containers.get(c.name)!;
      const pod = this.pod.metadata?.name;
      this.setRecord(c.name, {
        lastState: rec.state,
        state: {
          waiting: {
            reason: "CrashLoopBackOff",
            message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.name} pod=${pod}`,
          },
        },
        ready: false,
      });
      this.changed();
      this.event(
        "Warning",
        "BackOff",
        `Back-off restarting failed container ${c.name} in pod ${pod}`,
        c.name,
      );
      await this.sleep(delay);
      delay = Math.min(delay * 2, this.deps.backoff.maxMs);
      this.setRecord(c.name, { restartCount: rec.restartCount + 1 });
    }
    return last;
  }

  private waitingFor(c: V1Container, reason: string, message: string): void {
    const before = this.record.containers.get(c.name)?.state.waiting;
    if (before?.reason !== reason || before.message !== message)
      this.event("Warning", "Failed", `Error: ${message}`, c.name);
    this.setRecord(c.name, { state: { waiting: { reason, message } }, ready: false });
    this.changed();
  }

  private readonly pullFailures = new Map<string, number>();

  /**
   * The kubelet's image manager: the image from local storage (image mode), undefined when the host's
   * filesystem stands in for it (host-mirror mode), or "retry" while the image cannot be had.
   */
  private async ensureImage(c: V1Container): Promise<{ local: LocalImage | undefined } | "retry"> {
    const image = c.image ?? "";
    let local: LocalImage | undefined;
    try {
      local = await this.deps.images.find(image);
    } catch (error) {
      this.log.warn({ err: error, image }, "reading local container storage failed; retrying");
      return "retry";
    }
    const decision = decideImage(image, pullPolicy(image, c.imagePullPolicy), local !== undefined);
    if (decision.mode !== "error") {
      this.event("Normal", "Pulled", decision.event, c.name);
      return { local: decision.mode === "image" ? local : undefined };
    }
    if (decision.reason === "ErrImageNeverPull") {
      this.event("Warning", "ErrImageNeverPull", decision.event, c.name);
      this.setRecord(c.name, { state: { waiting: { reason: decision.reason, message: decision.message } } });
      this.changed();
      return "retry";
    }
    const attempts = this.pullFailures.get(c.name) ?? 0;
    this.pullFailures.set(c.name, attempts + 1);
    if (attempts === 0) {
      this.event("Warning", "Failed", decision.event, c.name);
      this.waitingFor(c, "ErrImagePull", decision.message);
    } else {
      this.event("Normal", "BackOff", `Back-off pulling image "${image}"`, c.name);
      this.setRecord(c.name, {
        state: { waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${image}"` } },
      });
      this.changed();
    }
    return "retry";
  }

  /** One run of a container: "retry" when its config is not there yet, "never" when it cannot run. */
  private async runOnce(c: V1Container): Promise<Exit | "retry" | "never"> {
    const image = await this.ensureImage(c);
    if (image === "retry") return "retry";
    const objects = await this.deps.fetchObjects(this.pod);
    const decoded = (m: Map<string, ObjectBytes>) =>
      new Map(
        [...m].map(([k, v]) => [
          k,
          v && Object.fromEntries(Object.entries(v).map(([kk, b]) => [kk, b.toString()])),
        ]),
      );
    let rootfs: string | undefined;
    let planImage: PlanImage | undefined;
    if (image.local) {
      rootfs = await this.deps.images.rootfs(image.local);
      planImage = { config: image.local.config, files: await this.deps.images.userFiles(image.local) };
    }
    const id = `${this.pod.metadata?.uid}-${c.name}-${this.instance++}`;
    const containerID = `process://${id}`;
    const planned = planContainer(
      this.pod,
      c,
      { ...this.envBase(), secrets: decoded(objects.secrets), configMaps: decoded(objects.configMaps) },
      { hostname: this.hostname, containerId: id, image: planImage, nodeDir: this.deps.nodeDir },
    );
    if (!planned.ok) {
      this.waitingFor(c, planned.reason, planned.message);
      return planned.retry ? "retry" : "never";
    }
    const plan = planned.plan;
    const hostname = this.hostname;
    const mounts = this.mounts(c, rootfs !== undefined);
    if (typeof mounts === "string") {
      this.waitingFor(c, "CreateContainerConfigError", mounts);
      return "never";
    }
    // Stopping began while this run was being prepared: start nothing more.
    if (this.stopped() || this.record.terminal || (isSidecar(c) && this.sidecarsStopping)) return "never";
    const log = this.deps.logs.open(
      this.pod.metadata!.namespace!,
      this.pod.metadata!.name!,
      this.pod.metadata!.uid!,
      c.name,
    );
    const containerDir = path.join(this.podDir, "containers", id);
    const termFile = path.join(containerDir, "termination-log");
    fs.mkdirSync(containerDir, { recursive: true });
    fs.writeFileSync(termFile, "");
    fs.chmodSync(termFile, 0o666); // writable whatever user the container runs as
    mounts.push({
      containerPath: c.terminationMessagePath || "/dev/termination-log",
      hostPath: termFile,
      readOnly: false,
    });
    const memory = c.resources?.limits?.memory;
    const proc = new ContainerProcess({
      id,
      command: plan.argv,
      tty: c.tty ?? false,
      stdin: c.stdin ?? false,
      identity: plan.identity,
      readOnlyRoot: plan.readOnlyRootFilesystem,
      env: plan.env,
      mounts,
      workingDir: plan.workingDir,
      hostname,
      log,
      // Image mode: the image's root with a writable layer of this run's own (discarded with it).
      // Host-mirror mode: the host's tree, minus the kubelet's data dir.
      ...(rootfs !== undefined
        ? { image: { rootfs, layerDir: path.join(containerDir, "layer") } }
        : { hidden: [this.deps.dataDir] }),
      ...(memory !== undefined ? { memoryLimitBytes: parseQuantity(memory) } : {}),
    });
    this.procs.set(c.name, proc);
    this.event("Normal", "Created", `Created container: ${c.name}`, c.name);
    const pid = await proc.pid;
    if (pid === undefined) return this.startFailed(c, proc, log, containerID);
    const startedAt = new Date();
    const target = this.probeTarget(c, pid, plan);
    this.targets.set(c.name, target);
    const postStart = c.lifecycle?.postStart;
    if (postStart) {
      // The container counts as running only once its postStart hook is done.
      const r = await runHook(postStart, target, this.graceMs());
      if (!r.ok) {
        this.event("Warning", "FailedPostStartHook", `PostStartHook failed: ${r.message ?? ""}`, c.name);
        void proc.terminate(this.graceMs());
      }
    }
    const noStartupProbe = !c.startupProbe;
    this.setRecord(c.name, {
      state: { running: { startedAt } },
      started: noStartupProbe,
      ready: noStartupProbe && !c.readinessProbe,
      containerID,
    });
    if (noStartupProbe) this.markStarted(c.name);
    this.changed();
    this.event("Normal", "Started", `Started container ${c.name}`, c.name);
    const probing = new AbortController();
    void this.runProbes(c, proc, target, probing.signal);
    const exit = await proc.exited;
    probing.abort();
    log.close();
    this.procs.delete(c.name);
    this.targets.delete(c.name);
    let written = "";
    try {
      written = fs.readFileSync(termFile, "utf8");
    } catch {}
    const message = terminationMessage(c, written, exit, log.entries());
    const state = terminatedState({
      exitCode: exit.exitCode,
      startedAt,
      finishedAt: new Date(),
      containerID,
      ...(exit.oomKilled ? { reason: "OOMKilled" } : {}),
      ...(exit.signal !== undefined ? { signal: exit.signal } : {}),
      ...(message ? { message } : {}),
    });
    this.setRecord(c.name, { state: { terminated: state }, ready: false });
    this.changed();
    return exit;
  }

  /**
   * The process never started (executable not found, bad working directory or user, a mount that
   * failed): containerd's StartError, exit code 128, runc's message in containerd's wrapping, and the
   * container never ran (startedAt is the zero time, as the kubelet reports it).
   */
  private async startFailed(
    c: V1Container,
    proc: ContainerProcess,
    log: { close(): void },
    containerID: string,
  ): Promise<Exit> {
    const exit = await proc.exited;
    log.close();
    this.procs.delete(c.name);
    const cause = exit.startError ?? exit.setupError ?? `exit code ${exit.exitCode}`;
    const message = startErrorMessage(cause);
    this.event("Warning", "Failed", `Error: ${message}`, c.name);
    const state = terminatedState({
      exitCode: 128,
      reason: "StartError",
      message,
      startedAt: new Date(0),
      finishedAt: new Date(),
      containerID,
    });
    this.setRecord(c.name, { state: { terminated: state }, ready: false, started: false, containerID });
    this.changed();
    return { exitCode: 128, ...(exit.startError ? { startError: exit.startError } : {}) };
  }

  private mounts(c: V1Container, imageMode: boolean): Mount[] | string {
    const mounts: Mount[] = [];
    for (const m of c.volumeMounts ?? []) {
      const v = this.volumes.get(m.name);
      if (!v) return `volume "${m.name}" of container "${c.name}" is not defined in the pod`;
      let hostPath = v.hostPath;
      if (m.subPath) {
        hostPath = path.resolve(v.hostPath, m.subPath);
        if (!hostPath.startsWith(`${v.hostPath}/`)) return `invalid subPath ${JSON.stringify(m.subPath)}`;
        // The kubelet creates a missing subPath as directories, each chmod-ed to the volume root's mode
        // (umask undone, setgid kept: subpath_linux.go doSafeMakeDir), so the fsGroup may write there.
        if (!fs.existsSync(hostPath)) {
          const mode = fs.statSync(v.hostPath).mode & 0o7777;
          let dir = v.hostPath;
          for (const part of path.relative(v.hostPath, hostPath).split(path.sep)) {
            dir = path.join(dir, part);
            if (fs.existsSync(dir)) continue;
            fs.mkdirSync(dir);
            fs.chmodSync(dir, mode);
          }
        }
      }
      mounts.push({ containerPath: m.mountPath, hostPath, readOnly: v.readOnly || m.readOnly === true });
    }
    // The Node first on PATH in host-mirror mode, where a fresh /tmp or /root would hide it.
    const nodeDir = this.deps.nodeDir;
    if (!imageMode && /^\/(tmp|root)\/./.test(nodeDir) && !mounts.some((m) => m.containerPath === nodeDir))
      mounts.push({ containerPath: nodeDir, hostPath: nodeDir, readOnly: true });
    // The kubelet-managed /etc/hosts and /etc/hostname, unless the container mounts its own.
    // In image mode also the pod's resolv.conf (host-mirror mode shows the host's own).
    for (const file of imageMode ? ["hosts", "hostname", "resolv.conf"] : ["hosts", "hostname"]) {
      const containerPath = `/etc/${file}`;
      if (!mounts.some((m) => m.containerPath === containerPath)) {
        mounts.push({ containerPath, hostPath: path.join(this.podDir, `etc-${file}`), readOnly: false });
      }
    }
    return mounts;
  }

  private get hostname(): string {
    return this.pod.spec?.hostname ?? (this.pod.metadata?.name ?? "pod").slice(0, 63);
  }

  private writeEtcFiles(): void {
    fs.mkdirSync(this.podDir, { recursive: true });
    fs.writeFileSync(path.join(this.podDir, "etc-hosts"), etcHosts(this.deps.podIP, this.hostname));
    fs.writeFileSync(path.join(this.podDir, "etc-hostname"), `${this.hostname}\n`);
    // dnsPolicy ClusterFirst without a cluster DNS falls back to the node's resolv.conf, as the kubelet does.
    let resolv = "";
    try {
      resolv = fs.readFileSync("/etc/resolv.conf", "utf8");
    } catch {}
    fs.writeFileSync(path.join(this.podDir, "etc-resolv.conf"), resolv);
  }

  private probeTarget(c: V1Container, pid: number, plan: ContainerPlan): ProbeTarget {
    return {
      pid,
      env: plan.env,
      container: c,
      podIP: this.deps.podIP,
      identity: plan.identity,
      workingDir: plan.workingDir,
    };
  }

  private async runProbes(
    c: V1Container,
    proc: ContainerProcess,
    target: ProbeTarget,
    signal: AbortSignal,
  ): Promise<void> {
    const loop = (kind: ProbeKind, spec: V1Probe, onResult: (ok: boolean) => boolean) =>
      probeLoop({
        kind,
        spec,
        target,
        // The worker's own abort ends the sleeps too: the loop must stop then, not probe without pause.
        signal: AbortSignal.any([signal, this.abort.signal]),
        sleep: (ms) => this.sleep(ms, signal),
        onFailure: (message) => this.event("Warning", "Unhealthy", message, c.name),
        onResult,
      });
    const restartOnFailure = (kind: string) => {
      this.log.info({ container: c.name }, `${kind} probe failed, killing the container`);
      this.event("Normal", "Killing", `Container ${c.name} failed ${kind} probe, will be restarted`, c.name);
      void proc.terminate(this.graceMs());
    };
    if (c.startupProbe) {
      let started = false;
      await loop("startup", c.startupProbe, (ok) => {
        if (ok) {
          started = true;
          this.setRecord(c.name, { ready: !c.readinessProbe });
          this.markStarted(c.name);
          this.changed();
        } else restartOnFailure("startup");
        return false;
      });
      if (!started) return;
    }
    const probes: Promise<void>[] = [];
    if (c.readinessProbe) {
      probes.push(
        loop("readiness", c.readinessProbe, (ok) => {
          const rec = this.record.containers.get(c.name);
          if (rec?.state.running && rec.ready !== ok) {
            this.setRecord(c.name, { ready: ok });
            this.changed();
          }
          return true;
        }),
      );
    }
    if (c.livenessProbe) {
      probes.push(
        loop("liveness", c.livenessProbe, (ok) => {
          if (!ok) restartOnFailure("liveness");
          return ok;
        }),
      );
    }
    await Promise.all(probes);
  }

  private sleep(ms: number, signal: AbortSignal = this.abort.signal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || this.abort.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      const all = this.abort.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        all.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
      if (signal !== all) all.addEventListener("abort", done, { once: true });
    });
  }

  /**
   * Stops every container: regular ones first, then sidecars in reverse order, each SIGTERM then
   * SIGKILL after the grace period. The pod then runs nothing more.
   */
  stop(reason: StopReason, graceMs: number): Promise<void> {
    if (this.stopping) {
      // A shorter grace period later (a forced deletion) cuts the wait short, as in the kubelet.
      if (this.stopDeadline !== undefined && Date.now() + graceMs < this.stopDeadline) {
        this.stopDeadline = Date.now() + graceMs;
        setTimeout(() => {
          for (const p of this.procs.values()) p.signal("SIGKILL");
        }, graceMs).unref();
      }
      if (reason !== "completed" && this.stopReason === undefined) {
        this.stopReason = reason;
        this.abort.abort();
      }
      return this.stopping;
    }
    this.stopDeadline = Date.now() + graceMs;
    if (reason !== "completed") {
      this.stopReason = reason;
      this.abort.abort();
    }
    this.sidecarsStopping = true;
    this.stopping = (async () => {
      clearTimeout(this.deadlineTimer);
      for (const timer of this.tokenTimers) clearTimeout(timer);
      const remaining = () => Math.max(0, (this.stopDeadline ?? 0) - Date.now());
      const spec = this.pod.spec!;
      for (const name of this.procs.keys())
        this.event("Normal", "Killing", `Stopping container ${name}`, name);
      const stopOne = async (c: V1Container) => {
        const proc = this.procs.get(c.name);
        if (!proc) return;
        const preStop = c.lifecycle?.preStop;
        const target = this.targets.get(c.name);
        if (preStop && target) {
          // preStop and SIGTERM share the grace period.
          const r = await runHook(preStop, target, remaining());
          if (!r.ok)
            this.event("Warning", "FailedPreStopHook", `PreStopHook failed: ${r.message ?? ""}`, c.name);
        }
        await proc.terminate(remaining());
      };
      await Promise.all(spec.containers.map(stopOne));
      for (const c of [...(spec.initContainers ?? [])].reverse()) await stopOne(c);
      this.abort.abort();
      this.record.terminal = true;
      this.record.sandboxReady = false;
      this.changed();
    })();
    return this.stopping;
  }

  /** The pod is being deleted: stop everything, write the final status. */
  async terminate(graceMs: number): Promise<void> {
    await this.stop("deleted", graceMs);
    await this.done;
    await this.deps.flush(this);
  }

  /** Kubelet shutdown: kill at once. */
  async kill(): Promise<void> {
    // As the kubelet's graceful node shutdown reports the pods it had to stop.
    if (!this.record.terminal && !this.record.failure) {
      this.record.failure = {
        reason: "Terminated",
        message: "Pod was terminated in response to imminent node shutdown.",
      };
    }
    await this.stop("shutdown", 0);
  }

  /** Frees the pod's disk (volumes, logs) once it is gone from the API. */
  cleanUp(): void {
    fs.rmSync(this.podDir, { recursive: true, force: true });
    this.deps.logs.remove(this.pod.metadata!.namespace!, this.pod.metadata!.name!);
  }
}
