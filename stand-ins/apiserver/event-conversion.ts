// Events are stored once (as core/v1) and served as both v1 and events.k8s.io/v1, as kube does:
// a controller's events.k8s.io Event shows up in `kubectl describe` (which reads core/v1).
import type { KubeObject } from "./storage.ts";

type Obj = Record<string, unknown>;

const RENAMES: [string, string][] = [
  // [core/v1, events.k8s.io/v1]
  ["involvedObject", "regarding"],
  ["message", "note"],
  ["source", "deprecatedSource"],
  ["firstTimestamp", "deprecatedFirstTimestamp"],
  ["lastTimestamp", "deprecatedLastTimestamp"],
  ["count", "deprecatedCount"],
  ["reportingComponent", "reportingController"],
];

const SHARED = ["reason", "type", "action", "related", "eventTime", "reportingInstance", "series"];

function rename(o: KubeObject, apiVersion: string, from: 0 | 1): KubeObject {
  const out: Obj = { apiVersion, kind: "Event", metadata: o.metadata };
  for (const pair of RENAMES) {
    const v = (o as Obj)[pair[from]];
    if (v !== undefined && v !== null && v !== "") out[pair[1 - from]!] = v;
  }
  for (const f of SHARED) if ((o as Obj)[f] !== undefined) out[f] = (o as Obj)[f];
  return out as KubeObject;
}

export function eventFromStorage(o: KubeObject): KubeObject {
  const series = (o as Obj).series as Obj | undefined;
  const out = rename(o, "events.k8s.io/v1", 0);
  if (series && "lastObservedTime" in series)
    out.series = { count: series.count, lastObservedTime: series.lastObservedTime };
  return out;
}

export function eventToStorage(o: KubeObject): KubeObject {
  const out = rename(o, "v1", 1);
  // kubectl describe shows firstTimestamp/lastTimestamp; fill them from eventTime as kube's conversion does.
  const eventTime = (o as Obj).eventTime as string | undefined;
  if (eventTime) {
    out.firstTimestamp ??= eventTime.replace(/\.\d+Z$/, "Z");
    out.lastTimestamp ??= out.firstTimestamp;
  }
  out.count ??= 1;
  return out;
}
