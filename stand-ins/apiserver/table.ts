// Server-side printing (meta.k8s.io/v1 Table) for `kubectl get`: a CRD version's additionalPrinterColumns
// and the built-in kinds' printers, both from the schema engine.
import type { CRDSpec } from "./crd-strategy.ts";
import type { ResourceType } from "./registry.ts";
import {
  type AdditionalPrinterColumn,
  builtinTable,
  customResourceTable,
  type Table,
} from "./schema/index.ts";
import type { KubeObject } from "./storage.ts";

export type { Table };

export type IncludeObject = "None" | "Metadata" | "Object";

export function parseIncludeObject(text: string | null): IncludeObject {
  if (text === "None" || text === "Object") return text;
  return "Metadata";
}

export function partialObjectMetadata(o: KubeObject): unknown {
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
}

function printerColumns(t: ResourceType): AdditionalPrinterColumn[] {
  const versions = (t.crd?.spec as CRDSpec | undefined)?.versions;
  return versions?.find((v) => v.name === t.version)?.additionalPrinterColumns ?? [];
}

export interface TableRequest {
  include: IncludeObject;
  now: Date;
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
  noHeaders?: boolean;
}

export function toTable(t: ResourceType, objects: KubeObject[], request: TableRequest): Table {
  const options = { ...request, includeObject: request.include };
  if (t.crd) return customResourceTable(objects, printerColumns(t), options);
  // Built-in printers read the stored shape (events.k8s.io Events print as core/v1 ones do).
  const shaped = t.toStorage ? objects.map((o) => t.toStorage!(o)) : objects;
  return builtinTable(t.toStorage ? "Event" : t.kind, shaped, options);
}
