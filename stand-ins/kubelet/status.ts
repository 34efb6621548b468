// Pod status from what the process kubelet knows about its containers — a pure function, shaped
// like pkg/kubelet/kubelet_pods.go (getPhase, with native sidecars) and pkg/kubelet/status
// (conditions). The I/O shell only records container states and writes the result.
import type {
  V1ContainerState,
  V1ContainerStateTerminated,
  V1ContainerStatus,
  V1Pod,
  V1PodCondition,
  V1PodStatus,
} from "@kubernetes/client-node";

export interface ContainerRecord {
  name: string;
  state: V1ContainerState;
  lastState?: V1ContainerState;
  restartCount: number;
  ready: boolean;
  /** Startup probe passed (or none); undefined before the container first ran. */
  started?: boolean;
  containerID?: string;
}

export interface PodRecord {
  podIP: string;
  hostIP: string;
  startTime: Date;
  /** Volumes are set up and containers may start. */
  sandboxReady: boolean;
  /** The pod will run nothing more (terminal phase expected, no restarts). */
  terminal: boolean;
  /** Set when the kubelet itself failed the pod (activeDeadlineSeconds, lost processes). */
  failure?: { reason: string; message: string };
  containers: ReadonlyMap<string, ContainerRecord>;
}

export type Phase = "Pending" | "Running" | "Succeeded" | "Failed";

export function isSidecar(c: { restartPolicy?: string }): boolean {
  return c.restartPolicy === "Always";
}

function hasTerminatedLast(s: ContainerRecord): boolean {
  return s.lastState?.terminated !== undefined;
}

export function podPhase(pod: V1Pod, record: PodRecord): Phase {
  if (record.failure) return "Failed";
  const spec = pod.spec!;
  const get = (name: string) => record.containers.get(name);
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of spec.initContainers ?? []) {
    if (isSidecar(c)) continue;
    const s = get(c.name);
    if (!s || s.state.running) pendingInit++;
    else if (s.state.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.lastState?.terminated) {
      if (s.lastState.terminated.exitCode !== 0) failedInit++;
    } else pendingInit++;
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of spec.initContainers ?? []) {
    if (!isSidecar(c)) continue;
    const s = get(c.name);
    if (!s) pendingInit++;
    else if (s.state.running) {
      if (!s.started) pendingInit++;
      running++;
    } else if (!s.state.terminated && !hasTerminatedLast(s)) pendingInit++;
  }
  let anyRegularStarted = false;
  for (const c of spec.containers) {
    const s = get(c.name);
    if (s && (s.state.running || s.state.terminated || hasTerminatedLast(s))) anyRegularStarted = true;
    if (!s) waiting++;
    else if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (hasTerminatedLast(s)) stopped++;
    else waiting++;
  }
  const policy = spec.restartPolicy ?? "Always";
  if (failedInit > 0 && policy === "Never") return "Failed";
  if ((pendingInit > 0 && !anyRegularStarted) || waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped > 0) {
    if (record.terminal) return stopped === succeeded ? "Succeeded" : "Failed";
    if (policy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    return policy === "Never" ? "Failed" : "Running";
  }
  return "Pending";
}

function condition(
  type: string,
  ok: boolean,
  previous: V1PodStatus | undefined,
  now: Date,
  reason?: string,
  message?: string,
): V1PodCondition {
  const before = previous?.conditions?.find((c) => c.type === type);
  const status = ok ? "True" : "False";
  const lastTransitionTime =
    before && before.status === status && before.lastTransitionTime ? before.lastTransitionTime : now;
  const c: V1PodCondition = { type, status, lastTransitionTime: new Date(lastTransitionTime) };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

function containerStatus(
  name: string,
  image: string,
  record: ContainerRecord | undefined,
  waitingReason: string,
): V1ContainerStatus {
  const r = record ?? { name, state: { waiting: { reason: waitingReason } }, restartCount: 0, ready: false };
  const s: V1ContainerStatus = {
    name,
    image,
    imageID: "",
    ready: r.ready,
    restartCount: r.restartCount,
    // Only a running container can be started (kube reports false once it has terminated).
    started: r.state.running !== undefined && r.started === true,
    state: r.state,
    lastState: r.lastState ?? {},
  };
  if (r.containerID) s.containerID = r.containerID;
  return s;
}

function initialized(pod: V1Pod, record: PodRecord): string[] {
  const incomplete: string[] = [];
  for (const c of pod.spec?.initContainers ?? []) {
    const s = record.containers.get(c.name);
    const done = isSidecar(c) ? s?.started === true : s?.state.terminated?.exitCode === 0;
    if (!done) incomplete.push(c.name);
  }
  return incomplete;
}

export function computePodStatus(
  pod: V1Pod,
  record: PodRecord,
  previous: V1PodStatus | undefined,
  now: Date,
): V1PodStatus {
  const spec = pod.spec!;
  const phase = podPhase(pod, record);
  const anyRegularStarted = spec.containers.some((c) => {
    const s = record.containers.get(c.name);
    return s && (s.state.running || s.state.terminated || s.lastState?.terminated);
  });
  const incomplete = anyRegularStarted ? [] : initialized(pod, record);
  const initDone = incomplete.length === 0;
  const readinessScope = [...(spec.initContainers ?? []).filter(isSidecar), ...spec.containers];
  const unready = readinessScope.filter((c) => !record.containers.get(c.name)?.ready).map((c) => c.name);
  const completed = phase === "Succeeded";
  const readyReason = completed ? "PodCompleted" : "ContainersNotReady";
  const readyMessage = completed ? undefined : `containers with unready status: [${unready.join(" ")}]`;
  const ready = unready.length === 0 && !completed && phase !== "Failed";
  const scheduled = previous?.conditions?.find((c) => c.type === "PodScheduled");
  const conditions = [
    condition("PodReadyToStartContainers", record.sandboxReady && !record.terminal, previous, now),
    condition(
      "Initialized",
      initDone,
      previous,
      now,
      "ContainersNotInitialized",
      `containers with incomplete status: [${incomplete.join(" ")}]`,
    ),
    condition("Ready", ready, previous, now, readyReason, readyMessage),
    condition("ContainersReady", ready, previous, now, readyReason, readyMessage),
    scheduled?.status === "True"
      ? { ...scheduled, lastTransitionTime: new Date(scheduled.lastTransitionTime ?? now) }
      : condition("PodScheduled", true, previous, now),
  ];
  const initWaiting = "PodInitializing";
  const mainWaiting =
    (spec.initContainers ?? []).length > 0 && !initDone ? "PodInitializing" : "ContainerCreating";
  const status: V1PodStatus = {
    phase,
    conditions,
    hostIP: record.hostIP,
    hostIPs: [{ ip: record.hostIP }],
    podIP: record.podIP,
    podIPs: [{ ip: record.podIP }],
    startTime: record.startTime,
    initContainerStatuses: (spec.initContainers ?? []).map((c) =>
      containerStatus(c.name, c.image ?? "", record.containers.get(c.name), initWaiting),
    ),
    containerStatuses: spec.containers.map((c) =>
      containerStatus(c.name, c.image ?? "", record.containers.get(c.name), mainWaiting),
    ),
  };
  if (previous?.qosClass) status.qosClass = previous.qosClass;
  if (record.failure) {
    status.reason = record.failure.reason;
    status.message = record.failure.message;
  }
  return status;
}

/** Terminated state for a process that exited (or could not start). */
export function terminatedState(t: {
  exitCode: number;
  signal?: number;
  startedAt: Date;
  finishedAt: Date;
  reason?: string;
  message?: string;
  containerID?: string;
}): V1ContainerStateTerminated {
  const s: V1ContainerStateTerminated = {
    exitCode: t.exitCode,
    reason: t.reason ?? (t.exitCode === 0 ? "Completed" : "Error"),
    startedAt: t.startedAt,
    finishedAt: t.finishedAt,
  };
  if (t.signal !== undefined) s.signal = t.signal;
  if (t.message) s.message = t.message;
  if (t.containerID) s.containerID = t.containerID;
  return s;
}
