// Kubernetes Events about Builds (core/v1, what `kubectl describe build` lists). Best effort: an Event
// that cannot be written is logged, never a reason to fail a reconcile.
import type { Build } from "../../api/build.ts";
import { API_VERSION } from "../../api/group.ts";
import type { KubeClient } from "../../lib/kube.ts";
import { resourcePath } from "../../lib/kube.ts";
import type { Logger } from "../../lib/log.ts";
import type { TransitionEvent } from "./build-status.ts";

export const COMPONENT = "kiln-build-controller";

export function eventFor(build: Build, event: TransitionEvent, now: number, host: string) {
  const time = new Date(now).toISOString();
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: {
      // As client-go's recorder: the object's name and a time-based suffix.
      name: `${build.metadata.name}.${now.toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`,
      namespace: build.metadata.namespace,
    },
    involvedObject: {
      apiVersion: API_VERSION,
      kind: "Build",
      name: build.metadata.name,
      namespace: build.metadata.namespace,
      uid: build.metadata.uid,
      resourceVersion: build.metadata.resourceVersion,
    },
    reason: event.reason,
    message: event.message,
    type: event.type,
    source: { component: COMPONENT, host },
    reportingComponent: COMPONENT,
    reportingInstance: host,
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}

export async function recordEvent(
  client: KubeClient,
  log: Logger,
  build: Build,
  event: TransitionEvent,
  now: number,
  host: string,
): Promise<void> {
  try {
    await client.create(
      resourcePath("v1", "events", build.metadata.namespace),
      eventFor(build, event, now, host),
    );
  } catch (err) {
    log.warn({ err: String(err), reason: event.reason }, "could not record event");
  }
}
