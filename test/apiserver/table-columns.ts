// The columns of each kind's Table and the cells of one object, as kube's printers compute them.
import { humanDuration } from "./human-duration.ts";
import { evaluateColumn } from "./jsonpath.ts";
import type { ResourceType } from "./registry.ts";
import type { KubeObject } from "./storage.ts";
import type { TableColumn } from "./table.ts";

type Obj = Record<string, unknown>;

const NAME: TableColumn = {
  name: "Name",
  type: "string",
  format: "name",
  description:
    "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
  priority: 0,
};

function column(name: string, type = "string", description = "", priority = 0, format = ""): TableColumn {
  return { name, type, format, description, priority };
}

const AGE = column(
  "Age",
  "string",
  "CreationTimestamp is a timestamp representing the server time when this object was created.",
);

function age(o: KubeObject, now: Date, at = o.metadata.creationTimestamp): string {
  if (!at) return "<unknown>";
  return humanDuration(now.getTime() - Date.parse(at));
}

function get(o: unknown, ...path: (string | number)[]): unknown {
  let v = o;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Obj)[p as string];
  }
  return v;
}

interface Printer {
  columns: TableColumn[];
  cells(o: KubeObject, now: Date): unknown[];
}

function podStatus(o: KubeObject): string {
  if (o.metadata.deletionTimestamp) return "Terminating";
  const status = (o.status ?? {}) as Obj;
  let reason = (status.reason as string | undefined) ?? (status.phase as string | undefined) ?? "Unknown";
  const init = (status.initContainerStatuses as Obj[] | undefined) ?? [];
  for (let i = 0; i < init.length; i++) {
    const state = init[i]!.state as Obj | undefined;
    const terminated = state?.terminated as Obj | undefined;
    const waiting = state?.waiting as Obj | undefined;
    if (terminated && terminated.exitCode === 0) continue;
    if (terminated)
      return terminated.reason ? `Init:${terminated.reason}` : `Init:ExitCode:${terminated.exitCode}`;
    if (waiting?.reason && waiting.reason !== "PodInitializing") return `Init:${waiting.reason}`;
    return `Init:${i}/${((get(o, "spec", "initContainers") as unknown[]) ?? []).length}`;
  }
  for (const c of (status.containerStatuses as Obj[] | undefined) ?? []) {
    const state = c.state as Obj | undefined;
    const waiting = state?.waiting as Obj | undefined;
    const terminated = state?.terminated as Obj | undefined;
    if (waiting?.reason) reason = waiting.reason as string;
    else if (terminated?.reason) reason = terminated.reason as string;
    else if (terminated)
      reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
  }
  return reason;
}

const BUILTIN: Record<string, Printer> = {
  "/pods": {
    columns: [
      NAME,
      column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
      column("Status", "string", "The aggregate status of the containers in this pod."),
      column(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
      ),
      AGE,
      column(
        "IP",
        "string",
        "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
        1,
      ),
      column("Node", "string", "NodeName is a request to schedule this pod onto a specific node.", 1),
    ],
    cells: (o, now) => {
      const statuses = (get(o, "status", "containerStatuses") as Obj[] | undefined) ?? [];
      const total = ((get(o, "spec", "containers") as unknown[]) ?? []).length;
      const ready = statuses.filter((c) => c.ready === true).length;
      const restarts = statuses.reduce((n, c) => n + Number(c.restartCount ?? 0), 0);
      return [
        o.metadata.name,
        `${ready}/${total}`,
        podStatus(o),
        String(restarts),
        age(o, now),
        (get(o, "status", "podIP") as string | undefined) ?? "<none>",
        (get(o, "spec", "nodeName") as string | undefined) ?? "<none>",
      ];
    },
  },
  "/namespaces": {
    columns: [NAME, column("Status", "string", "The status of the namespace"), AGE],
    cells: (o, now) => [o.metadata.name, get(o, "status", "phase") ?? "", age(o, now)],
  },
  "/secrets": {
    columns: [
      NAME,
      column("Type", "string", "The type of the secret"),
      column("Data", "string", "The number of entries in the secret"),
      AGE,
    ],
    cells: (o, now) => [
      o.metadata.name,
      o.type ?? "",
      Object.keys((o.data as Obj | undefined) ?? {}).length,
      age(o, now),
    ],
  },
  "/configmaps": {
    columns: [NAME, column("Data", "string", "Data contains the configuration data."), AGE],
    cells: (o, now) => [
      o.metadata.name,
      Object.keys((o.data as Obj | undefined) ?? {}).length +
        Object.keys((o.binaryData as Obj | undefined) ?? {}).length,
      age(o, now),
    ],
  },
  "/serviceaccounts": {
    columns: [
      NAME,
      column(
        "Secrets",
        "string",
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
      ),
      AGE,
    ],
    cells: (o, now) => [o.metadata.name, ((o.secrets as unknown[] | undefined) ?? []).length, age(o, now)],
  },
  events: {
    columns: [
      column("Last Seen", "string", "Time when this Event was last observed."),
      column(
        "Type",
        "string",
        "Type of this event (Normal, Warning), new types could be added in the future.",
      ),
      column(
        "Reason",
        "string",
        "This should be a short, machine understandable string that gives the reason for this event being generated.",
      ),
      column("Object", "string", "The object this Event is about."),
      column("Message", "string", "A human-readable description of the status of this operation."),
    ],
    cells: (o, now) => {
      const core = o.apiVersion === "v1";
      const regarding = (core ? o.involvedObject : o.regarding) as Obj | undefined;
      const last =
        (core ? o.lastTimestamp : o.deprecatedLastTimestamp) ?? o.eventTime ?? o.metadata.creationTimestamp;
      return [
        age(o, now, last as string | undefined),
        o.type ?? "",
        o.reason ?? "",
        `${String(regarding?.kind ?? "").toLowerCase()}/${String(regarding?.name ?? "")}`,
        (core ? o.message : o.note) ?? "",
      ];
    },
  },
  "coordination.k8s.io/leases": {
    columns: [NAME, column("Holder", "string", "The holder of the lease"), AGE],
    cells: (o, now) => [o.metadata.name, get(o, "spec", "holderIdentity") ?? "", age(o, now)],
  },
  "apiextensions.k8s.io/customresourcedefinitions": {
    columns: [
      NAME,
      column(
        "Created At",
        "date",
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
      ),
    ],
    cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ""],
  },
};

interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  format?: string;
  description?: string;
  priority?: number;
}

function crdColumns(t: ResourceType): PrinterColumn[] | undefined {
  const versions = (get(t.crd, "spec", "versions") as Obj[] | undefined) ?? [];
  const v = versions.find((x) => x.name === t.version);
  return v?.additionalPrinterColumns as PrinterColumn[] | undefined;
}

export function tableColumns(t: ResourceType): TableColumn[] {
  if (t.crd) {
    const cols = crdColumns(t);
    if (!cols) return [NAME, AGE];
    return [
      NAME,
      ...cols.map((c) => column(c.name, c.type, c.description ?? "", c.priority ?? 0, c.format ?? "")),
    ];
  }
  return (BUILTIN[t.collection] ?? { columns: [NAME, AGE] }).columns;
}

export function tableCells(t: ResourceType, o: KubeObject, now: Date): unknown[] {
  if (t.crd) {
    const cols = crdColumns(t);
    if (!cols) return [o.metadata.name, age(o, now)];
    return [o.metadata.name, ...cols.map((c) => evaluateColumn(o, c.jsonPath, c.type, now))];
  }
  const printer = BUILTIN[t.collection];
  if (!printer) return [o.metadata.name, age(o, now)];
  return printer.cells(o, now);
}
