// Pod Events as the kubelet records them, aggregated like client-go's event correlator: the same
// event (object, container, reason, message) again bumps `count` and `lastTimestamp` of the
// existing Event instead of creating another, so a crash loop or a failing probe does not flood
// the namespace. Fire and forget: a failed write is only logged.
import type { V1Pod } from "@kubernetes/client-node";
import type { Logger } from "../../lib/log.ts";
import type { Api } from "./client.ts";
import type { PodEvent } from "./pod-worker.ts";

interface Recorded {
  namespace: string;
  name: string;
  count: number;
  chain: Promise<unknown>;
}

export class EventRecorder {
  private readonly recorded = new Map<string, Recorded>();
  private readonly api: Api;
  private readonly nodeName: string;
  private readonly log: Logger;
  private readonly now: () => Date;

  constructor(api: Api, nodeName: string, log: Logger, now: () => Date = () => new Date()) {
    this.api = api;
    this.nodeName = nodeName;
    this.log = log;
    this.now = now;
  }

  record(pod: V1Pod, e: PodEvent): void {
    const { namespace = "default", name = "", uid = "" } = pod.metadata ?? {};
    const key = [uid, e.fieldPath ?? "", e.type, e.reason, e.message].join("\u0000");
    const now = this.now().toISOString();
    const seen = this.recorded.get(key);
    const fail = (error: unknown) =>
      this.log.debug({ err: error, reason: e.reason }, "recording an event failed");
    if (seen) {
      seen.count++;
      const count = seen.count;
      seen.chain = seen.chain
        .then(() =>
          this.api.request("PATCH", `/api/v1/namespaces/${seen.namespace}/events/${seen.name}`, {
            count,
            lastTimestamp: now,
          }),
        )
        .catch(fail);
      return;
    }
    const eventName = `${name}.${Date.now().toString(16)}${Math.random().toString(16).slice(2, 8)}`;
    const body = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: eventName, namespace },
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
      source: { component: "kubelet", host: this.nodeName },
      reportingComponent: "kubelet",
      reportingInstance: this.nodeName,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    const chain = this.api.request("POST", `/api/v1/namespaces/${namespace}/events`, body).catch(fail);
    this.recorded.set(key, { namespace, name: eventName, count: 1, chain });
  }

  /** Drops what is remembered about a pod that is gone. */
  forget(uid: string): void {
    for (const key of this.recorded.keys()) if (key.startsWith(`${uid}\u0000`)) this.recorded.delete(key);
  }
}
