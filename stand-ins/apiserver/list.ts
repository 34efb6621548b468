// LIST: label/field selection, resourceVersion / resourceVersionMatch semantics, and limit/continue
// pagination over a consistent snapshot (reconstructed from the watch history when needed).
import { ApiError, badRequest, gone, tooLargeResourceVersion } from "./errors.ts";
import type { ResourceType } from "./registry.ts";
import {
  type FieldSelector,
  type LabelSelector,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from "./selectors.ts";
import type { Collection, KubeObject } from "./storage.ts";

export interface Selection {
  namespace?: string;
  labels: LabelSelector;
  fields: FieldSelector;
}

export function parseSelection(
  t: ResourceType,
  namespace: string | undefined,
  query: URLSearchParams,
): Selection {
  const fields = parseFieldSelector(query.get("fieldSelector"));
  for (const f of fields) {
    if (!(f.field in t.selectableFields)) {
      throw badRequest(`field label not supported: ${f.field}`);
    }
  }
  return {
    namespace: t.namespaced ? namespace : undefined,
    labels: parseLabelSelector(query.get("labelSelector")),
    fields,
  };
}

export function selectionMatcher(t: ResourceType, s: Selection): (o: KubeObject) => boolean {
  return (o) => {
    if (s.labels.length > 0 && !matchesLabels(s.labels, o.metadata.labels)) return false;
    if (s.fields.length === 0) return true;
    const values: Record<string, string> = {};
    for (const f of s.fields) values[f.field] = t.selectableFields[f.field]?.(o) ?? "";
    return matchesFields(s.fields, values);
  };
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: token.rv, start: token.start })).toString(
    "base64url",
  );
}

function decodeContinue(text: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as {
      rv?: unknown;
      start?: unknown;
    };
    if (typeof t.rv === "number" && typeof t.start === "string") return { rv: t.rv, start: t.start };
  } catch {}
  throw badRequest(
    `continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)`,
  );
}

function objectKey(o: KubeObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

/** The collection's objects as they were at `rv` (undoing later events), or undefined if history is gone. */
function snapshotAt(c: Collection, rv: number, namespace: string | undefined): KubeObject[] | undefined {
  const events = c.eventsSince(rv);
  if (!events) return undefined;
  if (events.length === 0) return c.list(namespace);
  const state = new Map<string, KubeObject>();
  for (const o of c.list(namespace)) state.set(objectKey(o), o);
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (namespace !== undefined && e.object.metadata.namespace !== namespace) continue;
    const k = objectKey(e.object);
    if (e.type === "ADDED") state.delete(k);
    else state.set(k, e.previous!);
  }
  return [...state.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

function tooOld(rv: number, c: Collection): ApiError {
  return gone(`too old resource version: ${rv} (${c.compactedRV + 1})`);
}

/** A requested resourceVersion as a number; one from the future is refused as kube refuses it. */
function requestedRV(text: string, currentRV: number): number {
  const rv = Number(text);
  if (!Number.isInteger(rv) || rv < 0) throw badRequest(`invalid resource version: ${text}`);
  if (rv > currentRV) throw tooLargeResourceVersion(rv, currentRV);
  return rv;
}

export function listObjects(
  t: ResourceType,
  c: Collection,
  currentRV: number,
  selection: Selection,
  query: URLSearchParams,
): ListResult {
  const matches = selectionMatcher(t, selection);
  const limit = Number(query.get("limit") ?? "0");
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`invalid limit: ${query.get("limit")}`);
  const continueText = query.get("continue");
  const rvText = query.get("resourceVersion") ?? "";
  const match = query.get("resourceVersionMatch") ?? "";
  if (match && !["Exact", "NotOlderThan"].includes(match)) {
    throw badRequest(
      `resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`,
    );
  }
  if (match && rvText === "")
    throw badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided");
  if (match && continueText) throw badRequest("resourceVersionMatch is forbidden when continue is provided");
  if (match === "Exact" && rvText === "0")
    throw badRequest('resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  if (query.has("sendInitialEvents")) throw badRequest("sendInitialEvents is forbidden for list");
  if (continueText && rvText !== "")
    throw badRequest("specifying resource version is not allowed when using continue");

  let snapshotRV = currentRV;
  let objects: KubeObject[];
  let start = "";
  if (continueText) {
    const token = decodeContinue(continueText);
    start = token.start;
    snapshotRV = token.rv;
    const snap = snapshotAt(c, token.rv, selection.namespace);
    if (!snap) {
      throw new ApiError(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
      );
    }
    objects = snap;
  } else if (rvText !== "" && match === "Exact") {
    const rv = requestedRV(rvText, currentRV);
    const snap = snapshotAt(c, rv, selection.namespace);
    if (!snap) throw tooOld(rv, c);
    objects = snap;
    snapshotRV = rv;
  } else {
    if (rvText !== "" && rvText !== "0") requestedRV(rvText, currentRV);
    objects = c.list(selection.namespace);
  }

  const items: KubeObject[] = [];
  let i = 0;
  if (start) while (i < objects.length && objectKey(objects[i]!) <= start) i++;
  for (; i < objects.length; i++) {
    const o = objects[i]!;
    if (!matches(o)) continue;
    if (limit > 0 && items.length === limit) {
      const last = items[items.length - 1]!;
      const remaining =
        selection.labels.length === 0 && selection.fields.length === 0 ? objects.length - i : undefined;
      return {
        items,
        resourceVersion: String(snapshotRV),
        continue: encodeContinue({ rv: snapshotRV, start: objectKey(last) }),
        remainingItemCount: remaining,
      };
    }
    items.push(o);
  }
  return { items, resourceVersion: String(snapshotRV) };
}
