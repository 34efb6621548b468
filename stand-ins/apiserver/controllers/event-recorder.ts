// Events of the server's own controllers, recorded as client-go's EventRecorder does for
// kube-controller-manager: a core/v1 Event named <object>.<hex nanoseconds> with source.component
// and reportingComponent set, and the correlator's de-duplication — the same event again bumps
// `count` and `lastTimestamp` of the Event already written. Writes go through the object lifecycle.
import { ApiError } from "../errors.ts";
import { timestamp } from "../object-meta.ts";
import type { Objects } from "../objects.ts";
import type { KubeObject } from "../storage.ts";

const CACHE_SIZE = 4096;

export type EventType = "Normal" | "Warning";

export class EventRecorder {
  private readonly objects: Objects;
  private readonly component: string;
  private readonly seen = new Map<string, { namespace: string; name: string }>();
  private sequence = 0;

  constructor(objects: Objects, component: string) {
    this.objects = objects;
    this.component = component;
  }

  event(o: KubeObject, type: EventType, reason: string, message: string): void {
    const t = this.objects.registry.find("", "v1", "events");
    if (!t) return;
    const m = o.metadata;
    const namespace = m.namespace ?? "default";
    const key = [m.uid, o.kind, type, reason, message].join("\u0000");
    const now = this.objects.env.now();
    const previous = this.seen.get(key);
    try {
      if (previous) {
        const current = this.objects.find(t, previous.namespace, previous.name);
        if (current) {
          this.objects.internalUpdate(t, {
            ...current,
            count: ((current.count as number | undefined) ?? 1) + 1,
            lastTimestamp: timestamp(now),
          });
          this.touch(key, previous);
          return;
        }
      }
      const nanos = BigInt(now.getTime()) * 1_000_000n + BigInt(this.sequence++ % 1_000_000);
      const name = `${m.name}.${nanos.toString(16)}`;
      this.objects.create(
        t,
        namespace,
        {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name, namespace },
          involvedObject: {
            kind: o.kind,
            namespace: m.namespace,
            name: m.name,
            uid: m.uid,
            apiVersion: o.apiVersion,
            resourceVersion: m.resourceVersion,
          },
          reason,
          message,
          source: { component: this.component },
          firstTimestamp: timestamp(now),
          lastTimestamp: timestamp(now),
          count: 1,
          type,
          eventTime: null,
          reportingComponent: this.component,
          reportingInstance: "",
        },
        { fieldValidation: "Ignore" },
      );
      this.touch(key, { namespace, name });
    } catch (error) {
      // An event that cannot be written (its namespace is going) is dropped, as client-go drops it.
      if (!(error instanceof ApiError)) throw error;
    }
  }

  private touch(key: string, where: { namespace: string; name: string }): void {
    this.seen.delete(key);
    this.seen.set(key, where);
    if (this.seen.size > CACHE_SIZE) this.seen.delete(this.seen.keys().next().value!);
  }
}
