// Pure helpers for the system-maintained parts of an object: names, uids, timestamps, and what
// counts as a spec change (for metadata.generation).
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "./storage.ts";

/** kube's generateName alphabet: no vowels (no words), no confusable characters. */
const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export function randomSuffix(random: () => number = Math.random, length = 5): string {
  let s = "";
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return s;
}

/** RFC 3339 with second precision, as metav1.Time serializes. */
export function timestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function withoutMeta(o: KubeObject, keepStatus: boolean): Record<string, unknown> {
  const { metadata: _m, status, apiVersion: _a, kind: _k, ...rest } = o;
  return keepStatus ? { ...rest, status } : rest;
}

/**
 * Anything outside metadata (and status, when it has its own subresource) changed: kube bumps
 * metadata.generation for that.
 */
export function specChanged(a: KubeObject, b: KubeObject, statusIsSpec = false): boolean {
  return !isDeepStrictEqual(withoutMeta(a, statusIsSpec), withoutMeta(b, statusIsSpec));
}

/** The same object apart from its resourceVersion: an update that changes nothing is not written. */
export function sameObject(a: KubeObject, b: KubeObject): boolean {
  return isDeepStrictEqual(
    { ...a, metadata: { ...a.metadata, resourceVersion: undefined } },
    { ...b, metadata: { ...b.metadata, resourceVersion: undefined } },
  );
}

/** JSON round trip: drops `undefined` members, so comparisons and stored objects are plain JSON. */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** metav1.ObjectMeta drops empty maps and lists when it serializes (omitempty): so do we. */
export function normalizeMeta(o: KubeObject): void {
  const m = o.metadata as Record<string, unknown>;
  for (const k of ["labels", "annotations", "finalizers", "ownerReferences", "managedFields"]) {
    const v = m[k];
    if (
      v === null ||
      (Array.isArray(v) && v.length === 0) ||
      (typeof v === "object" && v !== null && Object.keys(v).length === 0)
    ) {
      delete m[k];
    }
  }
  for (const k of ["generateName", "namespace"]) if (m[k] === "" || m[k] === null) delete m[k];
}
