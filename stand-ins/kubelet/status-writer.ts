// Pod status writes: coalesced per pod, one in flight at a time, PUT to pods/status with the
// resourceVersion and recomputed from a fresh read on 409.
import type { V1PodStatus } from "@kubernetes/client-node";
import type { Logger } from "../../lib/log.ts";
import { type Api, HttpError } from "./client.ts";
import type { RawPod } from "./node-api.ts";
import type { PodWorker } from "./pod-worker.ts";
import { computePodStatus } from "./status.ts";

/** Coalesced status writes per pod, one in flight at a time, retried on conflicts. */
export class StatusWriter {
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

  /**
   * What kube-scheduler writes on a pod no node can take; once per message, since the write comes
   * back as a watch event. True when written.
   */
  async markUnschedulable(pod: RawPod, message: string): Promise<boolean> {
    const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    if (scheduled?.status === "False" && scheduled.message === message) return false;
    await this.write(pod, (previous) => ({
      ...previous,
      phase: "Pending",
      conditions: [
        ...(previous?.conditions ?? []).filter((c) => c.type !== "PodScheduled"),
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message,
          lastTransitionTime: new Date(),
        },
      ],
    }));
    return true;
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
