// Step output plumbing: a bounded tail (for status messages and chat) and a line prefixer for the
// local console. Both stream: memory stays bounded however much a step prints.

/** Keeps the last `limit` bytes written. */
export class Tail {
  readonly limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  constructor(limit = 8192) {
    this.limit = limit;
  }
  write(chunk: Buffer): void {
    const c = chunk.length > this.limit ? chunk.subarray(chunk.length - this.limit) : chunk;
    this.#chunks.push(Buffer.from(c));
    this.#size += c.length;
    while (this.#size - this.#chunks[0]!.length >= this.limit) this.#size -= this.#chunks.shift()!.length;
  }
  /** The last `lines` complete-or-partial lines, at most `limit` bytes, as text. */
  text(lines = 10): string {
    const all = Buffer.concat(this.#chunks);
    const s = all.subarray(Math.max(0, all.length - this.limit)).toString("utf8");
    return s.replace(/\n$/, "").split("\n").slice(-lines).join("\n");
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
