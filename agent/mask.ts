// Masks secret values in a step's output as it streams: every occurrence of a secret becomes `***`,
// wherever the chunks happen to be cut. Pure (no I/O): the output pump runs one per step on its worker.
//
// Which byte strings are masked (`maskPatterns`): each value whole, and, for values of more than one
// line, each line on its own too (a PEM key or a JSON credential is often printed line by line, by
// `cat`, a stack trace or a diff). Lines shorter than MIN_LINE bytes are not masked on their own: a
// `}` or `-----` line of such a value would blank out that text everywhere in the log, and a line that
// short says next to nothing of the secret. The whole value is masked however short it is.
//
// Every byte covered by any occurrence of any pattern is hidden; occurrences that overlap (a longer
// value containing a shorter one, two values sharing bytes) become one `***`, so no part of either is
// left showing, while two occurrences side by side stay two. Streaming holds back only what may still
// be the start of an occurrence: at most the longest pattern's length − 1 bytes, given out by `flush`.

export const MASK = "***";
/** Lines of a multi-line value shorter than this (in bytes) are masked only as part of the whole. */
export const MIN_LINE = 4;

const MASK_BYTES = Buffer.from(MASK);

/** A secret's value: text, or the exact bytes of a Secret's key (which need not be UTF-8). */
export type SecretValue = string | Uint8Array;

/** The byte strings to mask for these secret values: longest first, no duplicates, none empty. */
export function maskPatterns(values: readonly SecretValue[]): Buffer[] {
  // Latin-1 strings stand for the bytes one to one, so lines split and compare bytewise.
  const texts = new Set<string>();
  for (const value of values) {
    const bytes = (typeof value === "string" ? Buffer.from(value) : Buffer.from(value)).toString("latin1");
    if (bytes === "") continue;
    texts.add(bytes);
    if (!bytes.includes("\n")) continue;
    for (const line of bytes.split("\n")) {
      const l = line.endsWith("\r") ? line.slice(0, -1) : line;
      if (l.length >= MIN_LINE) texts.add(l);
    }
  }
  return [...texts].map((t) => Buffer.from(t, "latin1")).sort((a, b) => b.length - a.length);
}

export class Masker {
  readonly #values: readonly SecretValue[];
  readonly #patterns: Buffer[];
  readonly #longest: number;
  /** Whether some pattern starts with this byte. */
  readonly #first = new Uint8Array(256);
  /** Bytes kept for matching: what may start an occurrence that the next chunk completes. */
  #context: Buffer = Buffer.alloc(0);
  /** How many leading bytes of the context were given out already (inside a `***`). */
  #emitted = 0;

  constructor(values: readonly SecretValue[]) {
    this.#values = values;
    this.#patterns = maskPatterns(values);
    this.#longest = this.#patterns[0]?.length ?? 0;
    for (const p of this.#patterns) this.#first[p[0]!] = 1;
  }

  /** Whether there is anything to mask (a masker without values gives every chunk back as it is). */
  get active(): boolean {
    return this.#patterns.length > 0;
  }

  /** The bytes of `chunk` that are final, masked. The result may share memory with `chunk`. */
  write(chunk: Buffer): Buffer {
    if (!this.active) return chunk;
    return this.#run(this.#context.length ? Buffer.concat([this.#context, chunk]) : chunk, false);
  }

  /** Whatever is held back (the stream ended: no occurrence can complete any more). */
  flush(): Buffer {
    if (!this.active || this.#context.length === 0) return Buffer.alloc(0);
    return this.#run(this.#context, true);
  }

  /** A whole text at once (the agent's own messages). */
  maskText(text: string): string {
    if (!this.active) return text;
    return new Masker(this.#values).#run(Buffer.from(text), true).toString();
  }

  #run(buf: Buffer, final: boolean): Buffer {
    const runs = this.#runs(buf);
    // Bytes from the first place an occurrence may still begin must wait for more data.
    const hold = final ? buf.length : this.#partialStart(buf);
    const out: Buffer[] = [];
    let at = this.#emitted;
    for (const [s, e] of runs) {
      if (e <= at) continue;
      if (s >= hold) break;
      if (s > at) out.push(buf.subarray(at, s));
      // A run that began in bytes already given out continues that `***`. One that reaches into the
      // held bytes is given out whole now: its bytes are masked whatever comes next.
      if (s >= this.#emitted) out.push(MASK_BYTES);
      at = e;
    }
    if (at < hold) out.push(buf.subarray(at, hold));
    // Copied: `buf` may be the caller's buffer, reused for its next read.
    this.#context = hold < buf.length ? Buffer.from(buf.subarray(hold)) : Buffer.alloc(0);
    this.#emitted = this.#context.length === 0 ? 0 : Math.max(0, at - hold);
    if (out.length === 1 && out[0] !== MASK_BYTES) return out[0]!;
    return Buffer.concat(out);
  }

  /** Every occurrence of every pattern, merged where they overlap, in order. */
  #runs(buf: Buffer): [number, number][] {
    const found: [number, number][] = [];
    for (const p of this.#patterns) {
      for (let i = buf.indexOf(p); i !== -1; i = buf.indexOf(p, i + 1)) found.push([i, i + p.length]);
    }
    if (found.length < 2) return found;
    found.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const merged: [number, number][] = [found[0]!];
    for (const [s, e] of found.slice(1)) {
      const last = merged[merged.length - 1]!;
      if (s < last[1]) last[1] = Math.max(last[1], e);
      else merged.push([s, e]);
    }
    return merged;
  }

  /** The first position whose remaining bytes are a proper prefix of some pattern, else the end. */
  #partialStart(buf: Buffer): number {
    for (let x = Math.max(0, buf.length - this.#longest + 1); x < buf.length; x++) {
      if (!this.#first[buf[x]!]) continue;
      const rest = buf.subarray(x);
      for (const p of this.#patterns) {
        if (p.length > rest.length && rest.equals(p.subarray(0, rest.length))) return x;
      }
    }
    return buf.length;
  }
}
