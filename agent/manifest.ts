// parsePipeline(text, file): a .kiln.yaml as a Pipeline, or errors that each say where (file, line,
// column) and what is wrong in plain words. Pure: no I/O, never throws.
import { type Document, isMap, isPair, isScalar, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import {
  isPause,
  manifestShape,
  type Pipeline,
  pauseStep,
  runStep,
  STEP_TYPES,
  type Step,
} from "./manifest-schema.ts";

export interface ManifestError {
  file: string;
  line: number;
  column: number;
  message: string;
}

export type ParseResult = { ok: true; pipeline: Pipeline } | { ok: false; errors: ManifestError[] };

export function formatError(e: ManifestError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.message}`;
}

/** An invalid manifest, for callers that prefer throwing. */
export class ManifestInvalidError extends Error {
  readonly errors: ManifestError[];
  constructor(errors: ManifestError[]) {
    super(errors.map(formatError).join("\n"));
    this.name = "ManifestInvalidError";
    this.errors = errors;
  }
}

type Path = (string | number)[];

export function parsePipeline(text: string, file = ".kiln.yaml"): ParseResult {
  const lines = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, {
      lineCounter: lines,
      prettyErrors: false,
      uniqueKeys: true,
      logLevel: "error",
    });
  } catch (error) {
    return fail(file, 1, 1, `cannot read the YAML: ${(error as Error).message}`);
  }
  const at = (offset: number | undefined) => lines.linePos(offset ?? 0);
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const { line, col } = at(e.pos[0]);
        return { file, line, column: col, message: `YAML syntax: ${firstLine(e.message)}` };
      }),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return fail(file, 1, 1, `cannot read the YAML: ${firstLine((error as Error).message)}`);
  }
  const locate = (path: Path, key?: string): ManifestError => {
    const { line, col } = at(offsetOf(doc, path, key));
    return { file, line, column: col, message: "" };
  };
  if (data === null || data === undefined) {
    return fail(file, 1, 1, "the file is empty: it needs at least a list of steps");
  }
  const top = manifestShape.safeParse(data);
  const errors: ManifestError[] = [];
  if (!top.success) errors.push(...describe(top.error, [], data, manifestShape, locate));
  const rawSteps = (data as { steps?: unknown }).steps;
  const steps: Step[] = [];
  if (Array.isArray(rawSteps)) {
    const seen = new Map<string, number>();
    rawSteps.forEach((raw, i) => {
      const rawName = (raw as { name?: unknown } | null)?.name;
      if (typeof rawName === "string") {
        const first = seen.get(rawName);
        if (first !== undefined) {
          errors.push({
            ...locate(["steps", i, "name"]),
            message: `steps[${i}].name: two steps are called "${rawName}" (the other is steps[${first}]); names must differ`,
          });
        } else seen.set(rawName, i);
      }
      const type = (raw as { type?: unknown } | null)?.type;
      if (type !== undefined && !STEP_TYPES.includes(type as (typeof STEP_TYPES)[number])) {
        errors.push({
          ...locate(["steps", i, "type"]),
          message: `steps[${i}].type: unknown step type ${JSON.stringify(type)}; use ${STEP_TYPES.join(" or ")}`,
        });
        return;
      }
      const schema = type === "pause" ? pauseStep : runStep;
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        errors.push(...describe(parsed.error, ["steps", i], raw, schema, locate));
        return;
      }
      steps.push(parsed.data as Step);
    });
  }
  if (top.success) errors.push(...secretClashes(top.data, steps, locate));
  if (errors.length > 0 || !top.success) return { ok: false, errors: sortErrors(errors) };
  const m = top.data;
  return {
    ok: true,
    pipeline: {
      ...(m.image === undefined ? {} : { image: m.image }),
      ...(m.user === undefined ? {} : { user: m.user }),
      ...(m.resources === undefined ? {} : { resources: m.resources }),
      services: m.services ?? [],
      env: m.env ?? {},
      steps,
      ...(m.timeout === undefined ? {} : { timeout: m.timeout }),
      ...(m.cache === undefined ? {} : { cache: m.cache }),
      secrets: m.secrets ?? [],
    },
  };
}

/** Variables Kiln itself sets for every step (or the build container), which would replace a secret. */
const KILN_SET = /^(CI|KILN|KILN_[A-Z0-9_]*|GIT_CONFIG_PARAMETERS)$/;

/**
 * A secret's variable is the container's: two secrets of one name would be one file in the agent's
 * secrets volume (the pod is refused), and an `env:` of the same name, or one Kiln sets, would silently
 * replace it.
 */
function secretClashes(
  m: { env?: Record<string, string>; secrets?: { env: string }[] },
  steps: Step[],
  locate: (path: Path, key?: string) => ManifestError,
): ManifestError[] {
  const errors: ManifestError[] = [];
  const seen = new Map<string, number>();
  (m.secrets ?? []).forEach((secret, i) => {
    const here = () => locate(["secrets", i, "env"]);
    const first = seen.get(secret.env);
    if (first !== undefined) {
      errors.push({
        ...here(),
        message: `secrets[${i}].env: secrets[${first}] is ${secret.env} too; each secret needs a variable of its own`,
      });
      return;
    }
    seen.set(secret.env, i);
    if (KILN_SET.test(secret.env)) {
      errors.push({
        ...here(),
        message: `secrets[${i}].env: ${secret.env} is set by Kiln for every step; use another name`,
      });
      return;
    }
    const where = [
      ...(m.env && secret.env in m.env ? ["env"] : []),
      ...steps.flatMap((step, j) =>
        !isPause(step) && step.env && secret.env in step.env ? [`steps[${j}].env`] : [],
      ),
    ];
    if (where.length > 0) {
      errors.push({
        ...here(),
        message: `secrets[${i}].env: ${secret.env} is also set in ${where.join(", ")}, which would replace the secret; use another name`,
      });
    }
  });
  return errors;
}

function fail(file: string, line: number, column: number, message: string): ParseResult {
  return { ok: false, errors: [{ file, line, column, message }] };
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.trim();
}

function sortErrors(errors: ManifestError[]): ManifestError[] {
  return errors.toSorted((a, b) => a.line - b.line || a.column - b.column);
}

// --- turning zod issues into located sentences -------------------------------------------------

function describe(
  error: z.ZodError,
  prefix: Path,
  data: unknown,
  schema: z.ZodType,
  locate: (path: Path, key?: string) => ManifestError,
): ManifestError[] {
  const out: ManifestError[] = [];
  // A misspelt key also makes the real one "missing": say it once, as the misspelling.
  const suggested = new Set<string>();
  for (const issue of error.issues) {
    if (issue.code !== "unrecognized_keys") continue;
    const rel = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    for (const key of issue.keys) {
      const near = suggest(key, keysAt(schema, rel));
      if (near) suggested.add(pathText([...rel, near]));
    }
  }
  for (const issue of error.issues) {
    const rel = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    const path = [...prefix, ...rel];
    const where = pathText(path);
    if (issue.code === "unrecognized_keys") {
      const known = keysAt(schema, rel);
      for (const key of issue.keys) {
        const near = suggest(key, known);
        const hint = near
          ? `; did you mean "${near}"?`
          : known.length
            ? `; known keys: ${known.join(", ")}`
            : "";
        out.push({
          ...locate(path, key),
          message: `${where ? `${where}: ` : ""}unknown key "${key}"${hint}`,
        });
      }
      continue;
    }
    if (issue.code === "invalid_key") {
      const key = String(path.at(-1));
      const inner = issue.issues[0]?.message ?? "is not a valid key";
      out.push({ ...locate(path.slice(0, -1), key), message: `${where}: ${inner}` });
      continue;
    }
    const value = valueAt(data, rel);
    if (value === undefined && issue.code === "invalid_type" && suggested.has(pathText(rel))) continue;
    out.push({ ...locate(path), message: `${where || "the manifest"}: ${plain(issue, value)}` });
  }
  return out;
}

function plain(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) return `is missing (it must be ${article(issue.expected)})`;
      return `must be ${article(issue.expected)}, not ${kindOf(value)}`;
    case "too_small":
      if (issue.origin === "array" && issue.message.startsWith("Too small"))
        return "must not be an empty list";
      if (issue.origin === "string" && issue.message.startsWith("Too small")) return "must not be empty";
      return issue.message.startsWith("Too small")
        ? `is too small (at least ${issue.minimum})`
        : issue.message;
    case "too_big":
      return `is too big (at most ${issue.maximum})`;
    case "invalid_value":
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}`;
    case "invalid_union":
      return `must be ${kindsOf(issue)}, not ${kindOf(value)}`;
    default:
      return issue.message;
  }
}

function kindsOf(issue: z.core.$ZodIssueInvalidUnion): string {
  const kinds = issue.errors.flat().flatMap((i) => (i.code === "invalid_type" ? [article(i.expected)] : []));
  return kinds.length ? [...new Set(kinds)].join(" or ") : "something else";
}

function article(expected: string): string {
  const words: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    array: "a list",
    object: "a map of keys to values",
    record: "a map of keys to values",
  };
  return words[expected] ?? expected;
}

function kindOf(value: unknown): string {
  if (value === null) return "empty (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "number") return `the number ${value}`;
  if (typeof value === "boolean") return `${value}`;
  return typeof value;
}

function pathText(path: Path): string {
  let text = "";
  for (const p of path) text += typeof p === "number" ? `[${p}]` : text ? `.${p}` : p;
  return text;
}

function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** Keys of the (strict) object schema at path, for "did you mean" suggestions. */
function keysAt(schema: z.ZodType, path: Path): string[] {
  let s: z.core.$ZodType | undefined = schema;
  for (const seg of path) {
    s = unwrap(s);
    const def = s?._zod.def as {
      type: string;
      shape?: Record<string, z.core.$ZodType>;
      element?: z.core.$ZodType;
      valueType?: z.core.$ZodType;
    };
    if (def.type === "object") s = def.shape?.[seg as string];
    else if (def.type === "array") s = def.element;
    else if (def.type === "record") s = def.valueType;
    else return [];
  }
  const def = unwrap(s)?._zod.def as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === "object" ? Object.keys(def.shape ?? {}) : [];
}

function unwrap(s: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let cur = s;
  for (let i = 0; cur && i < 10; i++) {
    const def = cur._zod.def as {
      type: string;
      innerType?: z.core.$ZodType;
      in?: z.core.$ZodType;
      schema?: z.core.$ZodType;
    };
    if (def.innerType) cur = def.innerType;
    else if (def.type === "pipe" && def.in) cur = def.in;
    else break;
  }
  return cur;
}

/** The closest known key within a small edit distance (transpositions count once: stpes → steps). */
export function suggest(word: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const limit = word.length <= 3 ? 1 : 2;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d <= limit && d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

// --- source positions ---------------------------------------------------------------------------

/** Offset of the node at path (or of `key` inside the map there); the nearest existing ancestor otherwise. */
function offsetOf(doc: Document, path: Path, key?: string): number {
  for (let n = path.length; n >= 0; n--) {
    const node = nodeAt(doc, path.slice(0, n));
    if (!node) continue;
    if (key !== undefined && n === path.length && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
      const keyNode = pair?.key as Node | undefined;
      if (keyNode?.range) return keyNode.range[0];
    }
    if (node.range) return node.range[0];
  }
  return 0;
}

function nodeAt(doc: Document, path: Path): Node | undefined {
  if (path.length === 0) return (doc.contents as Node | null) ?? undefined;
  try {
    const node = doc.getIn(path, true);
    return node && typeof node === "object" && "range" in (node as object) ? (node as Node) : undefined;
  } catch {
    return undefined;
  }
}
