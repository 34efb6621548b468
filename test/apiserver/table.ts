// Server-side printing (meta.k8s.io/v1 Table) for `kubectl get`: a CRD's additionalPrinterColumns,
// the usual columns of the built-in kinds, Name + Age for anything else.
import type { ResourceType } from "./registry.ts";
import type { KubeObject } from "./storage.ts";
import { tableCells, tableColumns } from "./table-columns.ts";

export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface Table {
  kind: "Table";
  apiVersion: "meta.k8s.io/v1";
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumn[];
  rows: { cells: unknown[]; object?: unknown }[];
}

export type IncludeObject = "None" | "Metadata" | "Object";

export function parseIncludeObject(text: string | null): IncludeObject {
  if (text === "None" || text === "Object") return text;
  return "Metadata";
}

export function partialObjectMetadata(o: KubeObject): unknown {
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
}

export function toTable(
  t: ResourceType,
  objects: KubeObject[],
  include: IncludeObject,
  now: Date,
  listMeta: Table["metadata"] = {},
): Table {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    columnDefinitions: tableColumns(t),
    rows: objects.map((o) => ({
      cells: tableCells(t, o, now),
      object: include === "None" ? undefined : include === "Object" ? o : partialObjectMetadata(o),
    })),
  };
}
