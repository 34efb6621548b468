// Terminal sizes as kubectl sends them on the resize stream (SPDY) or channel 4 (WebSocket): JSON
// objects `{"Width":80,"Height":24}` one after another (Go's json.Encoder, a newline after each),
// decoded as the kubelet's `json.Decoder` loop into `TerminalSize{Width, Height uint16}` does: field
// names match case-insensitively, other fields are ignored, `null` changes nothing, and the first value
// that does not decode (not an object, a side that is not a uint16, bad JSON) ends resize handling for
// the session. A size with a zero side is dropped (kubecontainer.HandleResizing).

export interface TerminalSize {
  width: number;
  height: number;
}

/** Past this many bytes without a complete value the stream is not sending sizes. */
const MAX_PENDING = 4096;

export class TerminalSizeDecoder {
  private pending = "";
  private broken = false;

  /** False once a value failed to decode: later bytes are ignored, as the kubelet stops reading. */
  get ok(): boolean {
    return !this.broken;
  }

  /** The sizes these bytes complete, in order. */
  push(chunk: Buffer | string): TerminalSize[] {
    if (this.broken) return [];
    this.pending += chunk.toString();
    const sizes: TerminalSize[] = [];
    for (;;) {
      const text = this.pending.trimStart();
      if (text === "") {
        this.pending = "";
        break;
      }
      const end = valueEnd(text);
      if (end === "invalid") return this.fail(sizes);
      if (end === undefined) {
        this.pending = text;
        if (text.length > MAX_PENDING) return this.fail(sizes);
        break;
      }
      this.pending = text.slice(end);
      const size = decodeSize(text.slice(0, end));
      if (size === "invalid") return this.fail(sizes);
      if (size && size.width > 0 && size.height > 0) sizes.push(size);
    }
    return sizes;
  }

  private fail(sizes: TerminalSize[]): TerminalSize[] {
    this.broken = true;
    this.pending = "";
    return sizes;
  }
}

/** Where the JSON value at the start of `text` ends; undefined while it is incomplete. */
function valueEnd(text: string): number | "invalid" | undefined {
  if (text.startsWith("null")) return 4;
  if ("null".startsWith(text)) return undefined;
  if (text[0] !== "{") return "invalid"; // no other kind of value decodes into a TerminalSize
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}

/** One complete value: a size, null (nothing to do), or "invalid". */
function decodeSize(json: string): TerminalSize | null | "invalid" {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return "invalid";
  }
  if (value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) return "invalid";
  const size = { width: 0, height: 0 };
  // encoding/json: keys in order, each matched to a field case-insensitively; a later one overwrites.
  for (const [k, n] of Object.entries(value as Record<string, unknown>)) {
    const key = k.toLowerCase();
    if ((key !== "width" && key !== "height") || n === null) continue;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65535) return "invalid";
    size[key] = n;
  }
  return size;
}
