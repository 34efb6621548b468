// Table output for the built-in kinds Kiln's test API server serves, with the columns kube's printers
// (pkg/printers/internalversion) give them. The server always renders the wide columns (priority 1).
import { isPlainObject } from "./go-format.ts";
import { podCells } from "./pod-row.ts";
import { RBAC_PRINTERS } from "./rbac-printers.ts";
import {
  age,
  CREATION_TIMESTAMP_DESCRIPTION,
  NAME_COLUMN,
  rowObject,
  type Table,
  type TableColumnDefinition,
  type TableOptions,
  type TableRow,
  type TableRowCondition,
  tableOf,
} from "./table.ts";
import { WORKLOAD_PRINTERS } from "./workload-printers.ts";

type Obj = Record<string, unknown>;
type Printer = { columns: TableColumnDefinition[]; cells: (obj: Obj, now: Date) => unknown[] };

const column = (name: string, description: string, priority = 0, type = "string"): TableColumnDefinition => ({
  name,
  type,
  format: "",
  description,
  priority,
});
const AGE = column("Age", CREATION_TIMESTAMP_DESCRIPTION);

const get = (obj: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, key) => (isPlainObject(v) ? v[key] : undefined), obj);
const str = (value: unknown): string => (typeof value === "string" ? value : "");
const count = (value: unknown): number =>
  Array.isArray(value) ? value.length : isPlainObject(value) ? Object.keys(value).length : 0;
const name = (obj: Obj) => str(get(obj, "metadata", "name"));
const created = (obj: Obj, now: Date) => age(get(obj, "metadata", "creationTimestamp"), now);

const PRINTERS: Record<string, Printer> = {
  ...RBAC_PRINTERS,
  ...WORKLOAD_PRINTERS,
  Pod: {
    columns: [
      NAME_COLUMN,
      column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
      column("Status", "The aggregate status of the containers in this pod."),
      column(
        "Restarts",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
      ),
      AGE,
      column(
        "IP",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
        1,
      ),
      column("Node", "NodeName indicates in which node this pod is scheduled.", 1),
      column(
        "Nominated Node",
        "nominatedNodeName is set only when this pod preempts other pods on the node.",
        1,
      ),
      column("Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness.", 1),
    ],
    cells(obj, now) {
      const { ready, status, restarts } = podCells(obj, now);
      const podIPs = get(obj, "status", "podIPs");
      const ip = (Array.isArray(podIPs) ? str(get(podIPs[0], "ip")) : "") || "<none>";
      const gates = get(obj, "spec", "readinessGates");
      let readinessGates = "<none>";
      if (Array.isArray(gates) && gates.length > 0) {
        const conditions = get(obj, "status", "conditions");
        const list = Array.isArray(conditions) ? conditions : [];
        const trueGates = gates.filter((g) => {
          const match = list.find((c) => get(c, "type") === get(g, "conditionType"));
          return get(match, "status") === "True";
        }).length;
        readinessGates = `${trueGates}/${gates.length}`;
      }
      return [
        name(obj),
        ready,
        status,
        restarts,
        created(obj, now),
        ip,
        str(get(obj, "spec", "nodeName")) || "<none>",
        str(get(obj, "status", "nominatedNodeName")) || "<none>",
        readinessGates,
      ];
    },
  },
  Namespace: {
    columns: [NAME_COLUMN, column("Status", "The status of the namespace"), AGE],
    cells: (obj, now) => [name(obj), str(get(obj, "status", "phase")), created(obj, now)],
  },
  Secret: {
    columns: [
      NAME_COLUMN,
      column("Type", "The type of the secret"),
      column("Data", "The number of data entries"),
      AGE,
    ],
    cells: (obj, now) => [name(obj), str(get(obj, "type")), count(get(obj, "data")), created(obj, now)],
  },
  ConfigMap: {
    columns: [NAME_COLUMN, column("Data", "The number of data entries"), AGE],
    cells: (obj, now) => [
      name(obj),
      count(get(obj, "data")) + count(get(obj, "binaryData")),
      created(obj, now),
    ],
  },
  ServiceAccount: {
    columns: [NAME_COLUMN, column("Secrets", "The number of secrets"), AGE],
    cells: (obj, now) => [name(obj), count(get(obj, "secrets")), created(obj, now)],
  },
  Lease: {
    columns: [NAME_COLUMN, column("Holder", "The holder of the lease"), AGE],
    cells: (obj, now) => [name(obj), str(get(obj, "spec", "holderIdentity")), created(obj, now)],
  },
  Event: {
    columns: [
      column("Last Seen", "The time of the last occurrence"),
      column("Type", "Type of this event (Normal, Warning), new types could be added in the future."),
      column(
        "Reason",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
      ),
      column("Object", "The object that this event is about."),
      column("Subobject", "The subobject (fieldPath) of the object this event is about.", 1),
      column("Source", "The component reporting this event.", 1),
      column("Message", "A human-readable description of the status of this operation."),
      column("First Seen", "The time at which the event was first recorded.", 1),
      column("Count", "The number of times this event has occurred.", 1),
      column("Name", NAME_COLUMN.description, 1),
    ],
    cells(obj, now) {
      const micro = (value: unknown) => age(value, now);
      let firstSeen = age(get(obj, "firstTimestamp"), now);
      if (!get(obj, "firstTimestamp")) firstSeen = micro(get(obj, "eventTime"));
      let lastSeen = get(obj, "lastTimestamp") ? age(get(obj, "lastTimestamp"), now) : firstSeen;
      let eventCount = typeof get(obj, "count") === "number" ? (get(obj, "count") as number) : 0;
      if (isPlainObject(get(obj, "series"))) {
        lastSeen = micro(get(obj, "series", "lastObservedTime"));
        eventCount = (get(obj, "series", "count") as number) ?? 0;
      } else if (eventCount === 0) {
        eventCount = 1;
      }
      const kind = str(get(obj, "involvedObject", "kind")).toLowerCase();
      const involved = str(get(obj, "involvedObject", "name"));
      const component = str(get(obj, "source", "component")) || str(get(obj, "reportingComponent"));
      const instance = str(get(obj, "source", "host")) || str(get(obj, "reportingInstance"));
      return [
        lastSeen,
        str(get(obj, "type")),
        str(get(obj, "reason")),
        involved ? `${kind}/${involved}` : kind,
        str(get(obj, "involvedObject", "fieldPath")),
        instance ? `${component}, ${instance}` : component,
        str(get(obj, "message")).trim(),
        firstSeen,
        eventCount,
        name(obj),
      ];
    },
  },
  CustomResourceDefinition: {
    columns: [NAME_COLUMN, { ...column("Created At", CREATION_TIMESTAMP_DESCRIPTION), type: "date" }],
    cells: (obj) => {
      const ts = str(get(obj, "metadata", "creationTimestamp"));
      const ms = ts ? Date.parse(ts) : Number.NaN;
      const text = Number.isNaN(ms)
        ? "0001-01-01T00:00:00Z"
        : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
      return [name(obj), text];
    },
  },
};

const GENERIC: Printer = { columns: [NAME_COLUMN, AGE], cells: (obj, now) => [name(obj), created(obj, now)] };

const POD_SUCCEEDED: TableRowCondition[] = [
  { type: "Completed", status: "True", reason: "Succeeded", message: "The pod has completed successfully." },
];
const POD_FAILED: TableRowCondition[] = [
  { type: "Completed", status: "True", reason: "Failed", message: "The pod failed." },
];

/** A Table of built-in objects of one kind (Pod, Namespace, Secret, …; NAME and AGE for anything else). */
export function builtinTable(kind: string, objects: object[], options: TableOptions): Table {
  const printer = PRINTERS[kind] ?? GENERIC;
  const rows = objects.map((obj): TableRow => {
    const row: TableRow = {
      cells: printer.cells(obj as Obj, options.now),
      object: rowObject(obj, options.includeObject),
    };
    const phase = get(obj, "status", "phase");
    if (kind === "Pod" && phase === "Succeeded") row.conditions = POD_SUCCEEDED;
    if (kind === "Pod" && phase === "Failed") row.conditions = POD_FAILED;
    return row;
  });
  return tableOf(printer.columns, rows, options);
}
