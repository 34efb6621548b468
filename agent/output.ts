// Step output plumbing: a bounded tail (for status messages and chat) and a line prefixer for the
// local console. Both stream: memory stays bounded however much a step prints.

/** Keeps the last `limit` bytes written, in one ring buffer (no allocation per write). */
export class Tail {
  readonly limit: number;
  readonly #ring: Buffer;
  #end = 0;
  #size = 0;
  constructor(limit = 8192) {
    this.limit = limit;
    this.#ring = Buffer.alloc(limit);
  }
  write(chunk: Buffer): void {
    const c = chunk.length > this.limit ? chunk.subarray(chunk.length - this.limit) : chunk;
    const first = Math.min(c.length, this.limit - this.#end);
    c.copy(this.#ring, this.#end, 0, first);
    c.copy(this.#ring, 0, first);
    this.#end = (this.#end + c.length) % this.limit;
    this.#size = Math.min(this.limit, this.#size + c.length);
  }
  /** The last `lines` lines (the last one may be partial), at most `limit` bytes, as text. */
  text(lines = 10): string {
    const start = (this.#end - this.#size + this.limit) % this.limit;
    const bytes =
      start + this.#size <= this.limit
        ? this.#ring.subarray(start, start + this.#size)
        : Buffer.concat([this.#ring.subarray(start), this.#ring.subarray(0, this.#end)]);
    return bytes.toString("utf8").replace(/\n$/, "").split("\n").slice(-lines).join("\n");
  }
}

/** Prefixes every line with `prefix`, holding back a partial line until its end arrives. */
export class LinePrefixer {
  readonly #prefix: Buffer;
  #atLineStart = true;
  constructor(prefix: string) {
    this.#prefix = Buffer.from(prefix);
  }
  /** The prefixed bytes for chunk: one allocation and one write per chunk, not per line. */
  transform(chunk: Buffer): Buffer {
    let lines = this.#atLineStart && chunk.length > 0 ? 1 : 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, nl + 1)) {
      if (nl + 1 < chunk.length) lines++;
    }
    const p = this.#prefix;
    const out = Buffer.allocUnsafe(chunk.length + lines * p.length);
    let o = 0;
    let start = 0;
    while (start < chunk.length) {
      if (this.#atLineStart) o += p.copy(out, o);
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl + 1;
      o += chunk.copy(out, o, start, end);
      this.#atLineStart = nl !== -1;
      start = end;
    }
    return out;
  }
  /** A newline if the last line was left open, so the next writer starts cleanly. */
  flush(): Buffer {
    if (this.#atLineStart) return Buffer.alloc(0);
    this.#atLineStart = true;
    return Buffer.from("\n");
  }
}
