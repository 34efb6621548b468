// The READY, STATUS and RESTARTS cells of a Pod as kube's printers compute them (printPod in
// pkg/printers/internalversion): init containers first ("Init:0/1", "Init:Error"), then the app
// containers from last to first, then deletion ("Terminating").
import { isPlainObject } from "./go-format.ts";
import { age, parseTime } from "./table.ts";

interface ContainerState {
  waiting?: { reason?: string };
  running?: object;
  terminated?: { reason?: string; exitCode?: number; signal?: number; finishedAt?: string };
}
interface ContainerStatus {
  name?: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}
interface Pod {
  metadata?: { deletionTimestamp?: string };
  spec?: { containers?: unknown[]; initContainers?: { name?: string; restartPolicy?: string }[] };
  status?: {
    phase?: string;
    reason?: string;
    conditions?: { type?: string; status?: string; reason?: string }[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

export interface PodCells {
  ready: string;
  status: string;
  restarts: string;
}

const NODE_UNREACHABLE = "NodeLost";

export function podCells(raw: object, now: Date): PodCells {
  const pod = raw as Pod;
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  const initSpecs = new Map((spec.initContainers ?? []).map((c) => [c.name, c]));
  const isSidecar = (name: string | undefined) => initSpecs.get(name)?.restartPolicy === "Always";
  const total =
    (spec.containers ?? []).length +
    (spec.initContainers ?? []).filter((c) => c.restartPolicy === "Always").length;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart: number | null = null;
  let lastSidecarRestart: number | null = null;
  const later = (a: number | null, finishedAt: string | undefined) => {
    const t = finishedAt ? parseTime(finishedAt) : null;
    return t !== null && t !== undefined && (a === null || t > a) ? t : a;
  };

  let reason = status.reason || status.phase || "";
  for (const c of status.conditions ?? []) {
    if (c.type === "PodScheduled" && c.reason === "SchedulingGated") reason = "SchedulingGated";
  }

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i]!;
    restarts += c.restartCount ?? 0;
    if (c.lastState?.terminated) lastRestart = later(lastRestart, c.lastState.terminated.finishedAt);
    if (isSidecar(c.name)) {
      sidecarRestarts += c.restartCount ?? 0;
      if (c.lastState?.terminated)
        lastSidecarRestart = later(lastSidecarRestart, c.lastState.terminated.finishedAt);
    }
    const terminated = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (isSidecar(c.name) && c.started) {
      if (c.ready) ready++;
      continue;
    }
    if (terminated) {
      if (!terminated.reason) {
        reason = terminated.signal
          ? `Init:Signal:${terminated.signal}`
          : `Init:ExitCode:${terminated.exitCode ?? 0}`;
      } else {
        reason = `Init:${terminated.reason}`;
      }
    } else if (waiting?.reason && waiting.reason !== "PodInitializing") {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }

  const initialized = (status.conditions ?? []).some((c) => c.type === "Initialized" && c.status === "True");
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i]!;
      restarts += c.restartCount ?? 0;
      if (c.lastState?.terminated) lastRestart = later(lastRestart, c.lastState.terminated.finishedAt);
      const terminated = c.state?.terminated;
      if (c.state?.waiting?.reason) {
        reason = c.state.waiting.reason;
      } else if (terminated?.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
      } else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      const podReady = (status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
      reason = podReady ? "Running" : "NotReady";
    }
  }

  const deleting = isPlainObject(pod.metadata) && !!pod.metadata.deletionTimestamp;
  if (deleting && status.reason === NODE_UNREACHABLE) reason = "Unknown";
  else if (deleting && status.phase !== "Succeeded" && status.phase !== "Failed") reason = "Terminating";

  let restartText = String(restarts);
  if (restarts !== 0 && lastRestart !== null) {
    restartText = `${restarts} (${age(new Date(lastRestart).toISOString(), now)} ago)`;
  }
  return { ready: `${ready}/${total}`, status: reason, restarts: restartText };
}
