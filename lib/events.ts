// Kubernetes Events (core/v1, what `kubectl describe` lists under Events) about any object. Best
// effort: an Event that cannot be written is logged, never a reason to fail a reconcile.

import { type KubeClient, resourcePath } from "./kube.ts";
import type { Logger } from "./log.ts";

export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export interface EventNote {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** The Event as client-go's recorder writes it: named after the object plus a time-based suffix. */
export function eventFor(
  subject: EventSubject,
  note: EventNote,
  now: number,
  component: string,
  host: string,
) {
  const time = new Date(now).toISOString();
  const { name, namespace, uid, resourceVersion } = subject.metadata;
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: {
      name: `${name}.${now.toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`,
      namespace,
    },
    involvedObject: {
      apiVersion: subject.apiVersion,
      kind: subject.kind,
      name,
      namespace,
      uid,
      resourceVersion,
    },
    reason: note.reason,
    message: note.message,
    type: note.type,
    source: { component, host },
    reportingComponent: component,
    reportingInstance: host,
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}

export async function recordEvent(
  client: KubeClient,
  log: Logger,
  subject: EventSubject,
  note: EventNote,
  options: { now: number; component: string; host: string },
): Promise<void> {
  try {
    await client.create(
      resourcePath("v1", "events", subject.metadata.namespace),
      eventFor(subject, note, options.now, options.component, options.host),
    );
  } catch (err) {
    log.warn({ err: String(err), reason: note.reason }, "could not record event");
  }
}
