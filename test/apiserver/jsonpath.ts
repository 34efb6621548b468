// The JSONPath subset CRD printer columns use (k8s.io/client-go/util/jsonpath): `.a.b`, escaped dots
// (`.metadata.labels.kiln\.dev/commit`), `[n]`, `[*]`, and filters `[?(@.type=="Ready")]`.
import { humanDuration } from "./human-duration.ts";

type Step =
  | { field: string }
  | { index: number }
  | { all: true }
  | { filter: { path: string[]; op: string; value: string } };

function parseFieldPath(text: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) {
      current += text[++i];
    } else if (c === ".") {
      if (current) parts.push(current);
      current = "";
    } else current += c;
  }
  if (current) parts.push(current);
  return parts;
}

export function parsePath(path: string): Step[] {
  let text = path.trim();
  if (text.startsWith("{") && text.endsWith("}")) text = text.slice(1, -1);
  const steps: Step[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === "[") {
      const end = text.indexOf("]", text.startsWith("[?(", i) ? text.indexOf(")]", i) : i);
      if (end < 0) throw new Error(`unterminated [ in ${path}`);
      const inner = text.slice(i + 1, end);
      i = end + 1;
      if (inner === "*") steps.push({ all: true });
      else if (/^-?\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else if (inner.startsWith("?(") && inner.endsWith(")")) {
        const m = /^@((?:\.[^=!<>\s]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|(\S+))$/.exec(
          inner.slice(2, -1).trim(),
        );
        if (!m) throw new Error(`unsupported filter ${inner}`);
        steps.push({ filter: { path: parseFieldPath(m[1]!), op: m[2]!, value: m[3] ?? m[4] ?? m[5]! } });
      } else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ field: inner.slice(1, -1) });
      else throw new Error(`unsupported subscript [${inner}]`);
      continue;
    }
    // A run of dotted fields up to the next unescaped [.
    let j = i;
    while (j < text.length && text[j] !== "[") j += text[j] === "\\" ? 2 : 1;
    for (const f of parseFieldPath(text.slice(i, j))) steps.push({ field: f });
    i = j;
  }
  return steps;
}

function read(value: unknown, path: string[]): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

export function evaluate(object: unknown, path: string): unknown[] {
  let current: unknown[] = [object];
  for (const step of parsePath(path)) {
    const next: unknown[] = [];
    for (const v of current) {
      if ("field" in step) {
        if (v !== null && typeof v === "object" && !Array.isArray(v) && step.field in (v as object))
          next.push((v as Record<string, unknown>)[step.field]);
      } else if ("index" in step) {
        if (Array.isArray(v)) {
          const item = v[step.index < 0 ? v.length + step.index : step.index];
          if (item !== undefined) next.push(item);
        }
      } else if ("all" in step) {
        if (Array.isArray(v)) next.push(...v);
        else if (v !== null && typeof v === "object") next.push(...Object.values(v));
      } else {
        if (!Array.isArray(v)) continue;
        for (const item of v) {
          const got = read(item, step.filter.path);
          const equal = got !== undefined && String(got) === step.filter.value;
          if (step.filter.op === "==" ? equal : !equal && got !== undefined) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}

/** One printer-column cell: the first result, dates as ages, nothing as null (kubectl prints <none>). */
export function evaluateColumn(object: unknown, path: string, type: string, now: Date): unknown {
  let results: unknown[];
  try {
    results = evaluate(object, path);
  } catch {
    return null;
  }
  const v = results[0];
  if (v === undefined || v === null) return null;
  if (type === "date" && typeof v === "string") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? v : humanDuration(now.getTime() - t);
  }
  if (type === "integer" || type === "number") return typeof v === "number" ? v : Number(v);
  if (type === "boolean") return typeof v === "boolean" ? v : String(v) === "true";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}
