// Label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors (=, ==, !=) as
// kube-apiserver parses them from the `labelSelector` / `fieldSelector` query parameters.
import { badRequest } from "./errors.ts";

export type LabelRequirement =
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!exists" };

export type LabelSelector = LabelRequirement[];

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Splits on commas that are not inside parentheses. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

function checkKey(key: string, selector: string): void {
  if (!KEY.test(key) || key.length > 316) {
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${selector}"`);
  }
}

function checkValue(value: string, selector: string): void {
  if (!VALUE.test(value) || value.length > 63) {
    throw badRequest(`unable to parse requirement: invalid label value "${value}" in selector "${selector}"`);
  }
}

export function parseLabelSelector(text: string | null | undefined): LabelSelector {
  if (!text) return [];
  const result: LabelSelector = [];
  for (const part of splitTop(text)) {
    let m = /^(!?)\s*([^\s!=(),]+)$/.exec(part);
    if (m) {
      checkKey(m[2]!, text);
      result.push({ key: m[2]!, op: m[1] ? "!exists" : "exists" });
      continue;
    }
    m = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (m) {
      checkKey(m[1]!, text);
      const values = m[3]!
        .split(",")
        .map((v) => v.trim())
        .filter((v, _i, all) => v !== "" || all.length === 1);
      for (const v of values) checkValue(v, text);
      result.push({ key: m[1]!, op: m[2] as "in" | "notin", values });
      continue;
    }
    m = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s,()]*)$/.exec(part);
    if (m) {
      checkKey(m[1]!, text);
      checkValue(m[3]!, text);
      result.push({ key: m[1]!, op: m[2] === "!=" ? "notin" : "in", values: [m[3]!] });
      continue;
    }
    throw badRequest(`unable to parse requirement: found '${part}', expected: a valid label selector`);
  }
  return result;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  for (const r of selector) {
    const has = labels !== undefined && Object.hasOwn(labels, r.key);
    switch (r.op) {
      case "exists":
        if (!has) return false;
        break;
      case "!exists":
        if (has) return false;
        break;
      case "in":
        if (!has || !r.values.includes(labels[r.key]!)) return false;
        break;
      case "notin":
        if (has && r.values.includes(labels[r.key]!)) return false;
        break;
    }
  }
  return true;
}

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

export type FieldSelector = FieldRequirement[];

function unescapeFieldValue(value: string): string {
  return value.replace(/\\(.)/g, "$1");
}

export function parseFieldSelector(text: string | null | undefined): FieldSelector {
  if (!text) return [];
  const result: FieldSelector = [];
  for (const part of text.split(/(?<!\\),/)) {
    if (part.trim() === "") continue;
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    result.push({ field: m[1]!, value: unescapeFieldValue(m[3]!), negate: m[2] === "!=" });
  }
  return result;
}

/** `fields` maps every selectable field name to the object's value (missing fields are ""). */
export function matchesFields(selector: FieldSelector, fields: Record<string, string>): boolean {
  for (const r of selector) {
    const v = fields[r.field] ?? "";
    if ((v === r.value) === r.negate) return false;
  }
  return true;
}
