// Text the way the Go library writes it, so messages match kube's byte for byte: %q quoting, sorted
// string sets (sets.String.List sorts by bytes), the policy package's joinQuote and pluralize.

/** Go's strconv.Quote (what %q does to a string), for the characters label and field values can hold. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\v") out += "\\v";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** `"a", "b"`: quotes around a plain join, nothing escaped (the policy package's joinQuote). */
export function joinQuote(items: string[]): string {
  return items.length === 0 ? "" : `"${items.join('", "')}"`;
}

export function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** Go's sort.Strings order: by UTF-8 bytes. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** A string set's sorted contents (sets.NewString(...).List()). */
export function sortedSet(items: Iterable<string>): string[] {
  return [...new Set(items)].sort(byteOrder);
}
