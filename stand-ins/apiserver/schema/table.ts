// meta.k8s.io/v1 Table output of custom resources, as kube-apiserver's CRD table convertor renders it
// for `kubectl get` (Accept: application/json;as=Table;v=v1;g=meta.k8s.io).
import { humanDuration } from "../../../api/duration.ts";
import { goJSON, goNumber, goQuote, isPlainObject } from "./go-format.ts";
import { compileJSONPath } from "./jsonpath.ts";

export interface TableOptions {
  /** What each row's `object` holds: nothing, a PartialObjectMetadata (the default) or the whole object. */
  includeObject?: "None" | "Metadata" | "Object";
  /** The clock the AGE columns are computed against. */
  now: Date;
  /** The list's resourceVersion (or the single object's). */
  resourceVersion?: string;
  /** The list's continue token. */
  continue?: string;
  remainingItemCount?: number;
  /** TableOptions.noHeaders: leave out columnDefinitions (kubectl asks for this on watch events after the first). */
  noHeaders?: boolean;
}

export interface AdditionalPrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  format?: string;
  description?: string;
  priority?: number;
}

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  object: unknown;
}

export interface Table {
  kind: "Table";
  apiVersion: "meta.k8s.io/v1";
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[];
}

export const NAME_DESCRIPTION =
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
export const CREATION_TIMESTAMP_DESCRIPTION =
  "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

export const NAME_COLUMN: TableColumnDefinition = {
  name: "Name",
  type: "string",
  format: "name",
  description: NAME_DESCRIPTION,
  priority: 0,
};

/** What kube serves when a CRD version has no additionalPrinterColumns. */
export const DEFAULT_CRD_COLUMNS: AdditionalPrinterColumn[] = [
  {
    name: "Age",
    type: "date",
    jsonPath: ".metadata.creationTimestamp",
    description: CREATION_TIMESTAMP_DESCRIPTION,
  },
];

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch of an RFC 3339 time, null for the zero time (""), undefined when invalid. */
export function parseTime(text: string): number | null | undefined {
  if (text === "") return null;
  if (!RFC3339.test(text)) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  return ms <= Date.parse("0001-01-01T00:00:00Z") ? null : ms;
}

/** translateTimestampSince: the age of a timestamp, "<unknown>" when it is missing. */
export function age(timestamp: unknown, now: Date): string {
  const ms = typeof timestamp === "string" ? parseTime(timestamp) : null;
  if (ms === null || ms === undefined) return "<unknown>";
  return humanDuration(now.getTime() - ms);
}

function metadataOf(obj: object): Record<string, unknown> {
  const metadata = (obj as { metadata?: unknown }).metadata;
  return isPlainObject(metadata) ? metadata : {};
}

/** The row's `object` for the requested includeObject. */
export function rowObject(obj: object, includeObject: TableOptions["includeObject"]): unknown {
  if (includeObject === "None") return null;
  if (includeObject === "Object") return obj;
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: metadataOf(obj) };
}

export function tableOf(columns: TableColumnDefinition[], rows: TableRow[], options: TableOptions): Table {
  const metadata: Table["metadata"] = {};
  if (options.resourceVersion) metadata.resourceVersion = options.resourceVersion;
  if (options.continue) metadata.continue = options.continue;
  if (options.remainingItemCount !== undefined) metadata.remainingItemCount = options.remainingItemCount;
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata,
    columnDefinitions: options.noHeaders ? null : columns,
    rows,
  };
}

/**
 * A Table of custom resources with the CRD version's additionalPrinterColumns (the default Age column when
 * there are none). Throws when a column's jsonPath does not parse, as kube refuses such a CRD.
 */
export function customResourceTable(
  objects: object[],
  columns: AdditionalPrinterColumn[],
  options: TableOptions,
): Table {
  const effective = columns.length > 0 ? columns : DEFAULT_CRD_COLUMNS;
  const paths = effective.map((c) => {
    try {
      return compileJSONPath(`{${c.jsonPath}}`);
    } catch {
      throw new Error(`unrecognized column definition ${goQuote(c.jsonPath)}`);
    }
  });
  const definitions: TableColumnDefinition[] = [
    NAME_COLUMN,
    ...effective.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? "",
      description: c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
      priority: c.priority ?? 0,
    })),
  ];
  const rows = objects.map((obj) => ({
    cells: [
      metadataOf(obj).name ?? "",
      ...effective.map((c, i) => {
        const results = paths[i]!(obj);
        return results.length === 0 ? null : cell(c.type, results[0], options.now);
      }),
    ],
    object: rowObject(obj, options.includeObject),
  }));
  return tableOf(definitions, rows, options);
}

// cellForJSONValue, plus the jsonpath text printing kube uses for string columns.
function cell(type: string, value: unknown, now: Date): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "string":
      return printValue(value);
    case "integer":
      return typeof value === "number" ? Math.trunc(value) : null;
    case "number":
      return typeof value === "number" ? value : null;
    case "boolean":
      return typeof value === "boolean" ? value : null;
    case "date": {
      if (typeof value !== "string") return null;
      const ms = parseTime(value);
      if (ms === undefined) return "<invalid>";
      if (ms === null) return "<unknown>";
      return humanDuration(now.getTime() - ms);
    }
    default:
      return null;
  }
}

/** How jsonpath prints one result: strings raw, numbers and booleans with %v, objects and arrays as JSON. */
export function printValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return goNumber(value);
  if (typeof value === "boolean") return String(value);
  return goJSON(value);
}
