// Kubernetes JSONPath (k8s.io/client-go/util/jsonpath) as additionalPrinterColumns use it: fields with
// escaped dots, `..`, `*`, indexes and slices, unions, quoted keys and `[?(@.a == "b")]` filters.
// Missing keys and out-of-range indexes yield no result (the printer sets AllowMissingKeys), while a
// malformed expression throws.
import { isPlainObject } from "./go-format.ts";

type Node =
  | { kind: "field"; name: string }
  | { kind: "wildcard" }
  | { kind: "recursive" }
  | { kind: "slice"; start?: number; end?: number; step?: number; single: boolean }
  | { kind: "union"; branches: Node[][] }
  | { kind: "filter"; left: Node[]; op: string; right: Node[] }
  | { kind: "literal"; value: string | number | boolean };

const TERMINATORS = new Set([" ", "\t", "\r", "\n", ".", ",", "[", "]", "$", "@", "{", "}", "(", ")"]);

/** The values an expression selects in `obj`, in order (the first `{…}` of a template, as a column uses it). */
export function evaluateJSONPath(obj: unknown, expression: string): unknown[] {
  return run(parseJSONPath(expression), [obj]);
}

/** Parses once (throwing on syntax errors) and returns the evaluator. */
export function compileJSONPath(expression: string): (obj: unknown) => unknown[] {
  const nodes = parseJSONPath(expression);
  return (obj) => run(nodes, [obj]);
}

/** Parses an expression with or without the surrounding `{}`; throws on syntax errors. */
function parseJSONPath(expression: string): Node[] {
  let text = expression.trim();
  if (text.startsWith("{")) {
    if (!text.endsWith("}")) throw new Error(`unclosed action in JSONPath ${JSON.stringify(expression)}`);
    const close = matching(text, 0, "{", "}");
    if (close !== text.length - 1)
      throw new Error(`only one {…} expression is supported: ${JSON.stringify(expression)}`);
    text = text.slice(1, -1);
  }
  if (/^\s*(range|end)\b/.test(text))
    throw new Error(`range and end are not supported in a column: ${expression}`);
  return new Parser(text, expression).parse();
}

function matching(text: string, start: number, open: string, close: string): number {
  let depth = 0;
  let quote = "";
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === "'" || c === '"') quote = c;
    else if (c === open) depth++;
    else if (c === close && --depth === 0) return i;
  }
  return -1;
}

class Parser {
  private pos = 0;
  private readonly text: string;
  private readonly source: string;
  constructor(text: string, source: string) {
    this.text = text;
    this.source = source;
  }

  private fail(message: string): never {
    throw new Error(`invalid JSONPath ${JSON.stringify(this.source)}: ${message}`);
  }

  parse(): Node[] {
    const nodes: Node[] = [];
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos]!;
      if (c === " " || c === "\t") {
        this.pos++;
      } else if (c === "$" || c === "@") {
        this.pos++;
      } else if (c === ".") {
        if (t[this.pos + 1] === ".") {
          nodes.push({ kind: "recursive" });
          this.pos += 2;
          if (t[this.pos] !== "[") nodes.push(this.field());
        } else {
          this.pos++;
          if (this.pos < t.length && !TERMINATORS.has(t[this.pos]!)) nodes.push(this.field());
        }
      } else if (c === "[") {
        nodes.push(this.bracket());
      } else if (c === '"' || c === "'") {
        nodes.push(this.quoted());
      } else if (/[-0-9]/.test(c)) {
        const m = /^-?\d+(\.\d+)?/.exec(t.slice(this.pos));
        if (!m) this.fail(`unexpected ${c}`);
        nodes.push({ kind: "literal", value: Number(m[0]) });
        this.pos += m[0].length;
      } else if (/^(true|false)\b/.test(t.slice(this.pos))) {
        const word = t.startsWith("true", this.pos) ? "true" : "false";
        nodes.push({ kind: "literal", value: word === "true" });
        this.pos += word.length;
      } else {
        this.fail(`unrecognized character ${JSON.stringify(c)} at ${this.pos}`);
      }
    }
    return nodes;
  }

  private field(): Node {
    const t = this.text;
    let name = "";
    while (this.pos < t.length && !TERMINATORS.has(t[this.pos]!)) {
      if (t[this.pos] === "\\" && this.pos + 1 < t.length) this.pos++;
      name += t[this.pos];
      this.pos++;
    }
    if (name === "") this.fail(`empty field name at ${this.pos}`);
    return name === "*" ? { kind: "wildcard" } : { kind: "field", name };
  }

  private quoted(): Node {
    const t = this.text;
    const q = t[this.pos]!;
    let value = "";
    this.pos++;
    while (this.pos < t.length && t[this.pos] !== q) {
      if (t[this.pos] === "\\") this.pos++;
      value += t[this.pos] ?? "";
      this.pos++;
    }
    if (this.pos >= t.length) this.fail("unterminated quoted string");
    this.pos++;
    return { kind: "literal", value };
  }

  private bracket(): Node {
    const t = this.text;
    if (t.startsWith("[?(", this.pos)) {
      const close = matching(t, this.pos + 2, "(", ")");
      if (close < 0 || t[close + 1] !== "]") this.fail("unclosed filter");
      const inside = t.slice(this.pos + 3, close);
      this.pos = close + 2;
      return this.filter(inside);
    }
    const close = matching(t, this.pos, "[", "]");
    if (close < 0) this.fail("unterminated array");
    let inside = t.slice(this.pos + 1, close).trim();
    this.pos = close + 1;
    if (inside === "*") inside = ":";
    const parts = splitTopLevel(inside, ",");
    if (parts.length > 1)
      return { kind: "union", branches: parts.map((p) => new Parser(`[${p.trim()}]`, this.source).parse()) };
    const key = /^'([^']*)'$|^"([^"]*)"$/.exec(inside);
    if (key) return { kind: "field", name: key[1] ?? key[2]! };
    const slice = /^(-?\d*)(:-?\d*)?(:-?\d*)?$/.exec(inside);
    if (!slice || inside === "") this.fail(`invalid array index ${inside}`);
    const num = (s: string | undefined) =>
      s === undefined || s === "" || s === ":" ? undefined : Number(s.replace(":", ""));
    return {
      kind: "slice",
      start: num(slice[1]),
      end: num(slice[2]),
      step: num(slice[3]),
      single: slice[2] === undefined,
    };
  }

  private filter(inside: string): Node {
    const m = /^(.*?)(==|!=|>=|<=|=|>|<)(.*)$/.exec(inside);
    if (!m)
      return {
        kind: "filter",
        left: new Parser(inside.trim(), this.source).parse(),
        op: "exists",
        right: [],
      };
    const left = new Parser(m[1]!.trim(), this.source).parse();
    const right = new Parser(m[3]!.trim(), this.source).parse();
    if (left.length === 0 || right.length === 0) this.fail(`incomplete filter ${inside}`);
    return { kind: "filter", left, op: m[2] === "=" ? "==" : m[2]!, right };
  }
}

function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quote = "";
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === "'" || c === '"') quote = c;
    else if (c === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function run(nodes: Node[], input: unknown[]): unknown[] {
  let current = input;
  for (const node of nodes) current = step(node, current);
  return current;
}

function sortedValues(value: Record<string, unknown>): unknown[] {
  return Object.keys(value)
    .sort()
    .map((k) => value[k]);
}

function step(node: Node, input: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const value of input) {
    switch (node.kind) {
      case "field":
        if (isPlainObject(value) && Object.hasOwn(value, node.name)) out.push(value[node.name]);
        break;
      case "wildcard":
        if (isPlainObject(value)) out.push(...sortedValues(value));
        else if (Array.isArray(value)) out.push(...value);
        break;
      case "recursive":
        collect(value, out);
        break;
      case "slice":
        if (Array.isArray(value)) out.push(...slice(value, node));
        break;
      case "union":
        for (const branch of node.branches) out.push(...run(branch, [value]));
        break;
      case "filter":
        if (Array.isArray(value)) out.push(...value.filter((item) => matches(node, item)));
        break;
      case "literal":
        out.push(node.value);
        break;
    }
  }
  return out;
}

function collect(value: unknown, out: unknown[]): void {
  out.push(value);
  if (isPlainObject(value)) for (const v of sortedValues(value)) collect(v, out);
  else if (Array.isArray(value)) for (const v of value) collect(v, out);
}

function slice(list: unknown[], node: Extract<Node, { kind: "slice" }>): unknown[] {
  const n = list.length;
  if (node.single) {
    const i = (node.start ?? 0) < 0 ? n + (node.start ?? 0) : (node.start ?? 0);
    return i >= 0 && i < n ? [list[i]] : [];
  }
  const clamp = (i: number) => Math.min(Math.max(i < 0 ? n + i : i, 0), n);
  const start = clamp(node.start ?? 0);
  const end = clamp(node.end ?? n);
  const stepBy = node.step && node.step > 0 ? node.step : 1;
  const out: unknown[] = [];
  for (let i = start; i < end; i += stepBy) out.push(list[i]);
  return out;
}

function matches(node: Extract<Node, { kind: "filter" }>, item: unknown): boolean {
  const lefts = run(node.left, [item]);
  if (lefts.length === 0) return false;
  if (node.op === "exists") return true;
  const rights = run(node.right, [item]);
  if (rights.length === 0) return false;
  const [a, b] = [lefts[0], rights[0]];
  // Go's template comparison refuses mixed types; the column then shows nothing for this item.
  if (typeof a !== typeof b) return false;
  switch (node.op) {
    case "==":
      return a === b;
    case "!=":
      return a !== b;
    case "<":
      return (a as number) < (b as number);
    case ">":
      return (a as number) > (b as number);
    case "<=":
      return (a as number) <= (b as number);
    case ">=":
      return (a as number) >= (b as number);
    default:
      return false;
  }
}
