// Go's fmt verbs as kube-apiserver uses them in messages (%q, %v, %#v), so our texts match its texts.

/** Go's strconv.Quote: a double-quoted string with Go escapes. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\v") out += "\\v";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (code >= 0x80 && code < 0xa0) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's %v of a float64 (strconv 'g' with the shortest precision: exponent form from 1e+06 and below 1e-04). */
export function goFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const [mantissa, exponentText] = value.toExponential().split("e") as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return String(value);
}

/** Go's %v of a decoded JSON number: integers as int64, the rest as float64. */
export function goNumber(value: number): string {
  return Number.isInteger(value) && Math.abs(value) < 2 ** 63 ? BigInt(value).toString() : goFloat(value);
}

/** Go's %#v of a decoded JSON value (map[string]interface {}, []interface {}, …). */
export function goSharpV(value: unknown): string {
  if (value === null || value === undefined) return "interface {}(nil)";
  if (typeof value === "string") return goQuote(value);
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    return goNumber(value);
  }
  if (Array.isArray(value)) return `[]interface {}{${value.map((v) => goSharpV(v)).join(", ")}}`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return `map[string]interface {}{${entries.map(([k, v]) => `${goQuote(k)}:${goSharpV(v)}`).join(", ")}}`;
}

/** The value part of field.Error.ErrorBody(): %v for numbers and booleans, %q for strings, %#v otherwise. */
export function goBadValue(value: unknown): string {
  if (value === null || value === undefined) return goQuote("null");
  if (typeof value === "string") return goQuote(value);
  if (typeof value === "number") return goNumber(value);
  if (typeof value === "boolean") return String(value);
  return goSharpV(value);
}

/** Go's encoding/json output for a decoded JSON value: sorted keys, <, > and & escaped. */
export function goJSON(value: unknown): string {
  return JSON.stringify(sortKeys(value))
    .replaceAll("<", "\\u003c")
    .replaceAll(">", "\\u003e")
    .replaceAll("&", "\\u0026")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

/** The JSON type name kube-openapi reports for a decoded value ("string", "integer", "number", …). */
export function jsonTypeName(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  if (typeof value === "object") return "object";
  return typeof value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The schema of a named property, never one inherited from Object.prototype ("toString", "valueOf"…). */
export function propertyOf<T>(properties: Record<string, T> | undefined, key: string): T | undefined {
  return properties !== undefined && Object.hasOwn(properties, key) ? properties[key] : undefined;
}

/** A deep copy of a decoded JSON value (faster than structuredClone for the small objects of an API). */
export function cloneJSON<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneJSON) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      // defineProperty keeps a "__proto__" key an own property, as JSON.parse makes it.
      Object.defineProperty(out, key, {
        value: cloneJSON((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out as T;
  }
  return value;
}
