// A step's log as the chunks it was appended in, and what to do with one more append. Pure.
//
// Each append is stored as its own blob named by the byte range it covers, so a retry, or two replicas
// racing on one step, can at worst store overlapping ranges — never a range under the wrong name. The log
// is the longest run of bytes from 0 that the chunks cover without a gap; overlaps are read once.

export interface Chunk {
  start: number;
  end: number;
}

const WIDTH = 16; // digits: sorts by name as by offset, up to 10^16 bytes

export function chunkName(c: Chunk): string {
  return `chunk-${String(c.start).padStart(WIDTH, "0")}-${String(c.end).padStart(WIDTH, "0")}`;
}

export function parseChunkName(name: string): Chunk | undefined {
  const m = /^chunk-(\d{16})-(\d{16})$/.exec(name);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  return end > start ? { start, end } : undefined;
}

/** The chunks by start (then longest first), as the reads below expect them. */
export function sortChunks<C extends Chunk>(chunks: readonly C[]): C[] {
  return [...chunks].sort((a, b) => a.start - b.start || b.end - a.end);
}

/** How many bytes from offset 0 the chunks cover without a gap. */
export function contiguousLength(chunks: readonly Chunk[]): number {
  let length = 0;
  for (const c of sortChunks(chunks)) {
    if (c.start > length) break;
    length = Math.max(length, c.end);
  }
  return length;
}

/** One piece of a read: `take` bytes of `chunk`, starting `skip` bytes into it. */
export interface ReadPiece<C extends Chunk> {
  chunk: C;
  skip: number;
  take: number;
}

/** Which pieces of which chunks make bytes [from, to) of the log, in order (empty past a gap). */
export function readPlan<C extends Chunk>(chunks: readonly C[], from: number, to: number): ReadPiece<C>[] {
  const pieces: ReadPiece<C>[] = [];
  let at = from;
  for (const chunk of sortChunks(chunks)) {
    if (at >= to) break;
    if (chunk.start > at) break; // a gap: nothing past it is part of the log yet
    if (chunk.end <= at) continue;
    const end = Math.min(chunk.end, to);
    pieces.push({ chunk, skip: at - chunk.start, take: end - at });
    at = end;
  }
  return pieces;
}

export interface LogState {
  length: number;
  complete: boolean;
}

export interface AppendRequest {
  offset: number;
  size: number;
  /** This append is the last: the log is complete at offset + size. */
  complete: boolean;
}

export type AppendDecision =
  /** Store bytes [from, size) of the request's body as the chunk [offset + from, offset + size). */
  | { kind: "store"; from: number; complete: boolean }
  /** Every byte is stored already (a retry): answer success, store nothing, maybe mark complete. */
  | { kind: "stored"; complete: boolean }
  /** The offset is past the end: the client must resend from `length`. */
  | { kind: "gap"; length: number }
  /** The log is complete and this adds to it, or would complete it at another length. */
  | { kind: "conflict"; length: number; why: string }
  /** The log would grow past the limit. */
  | { kind: "too-large"; limit: number };

/**
 * What an append does to a log: stores what is new, accepts a retry of what is already there (a client
 * resends only bytes it sent before, so bytes at an offset never change), refuses a gap with the current
 * length so the client can resume there.
 */
export function decideAppend(state: LogState, request: AppendRequest, maxBytes: number): AppendDecision {
  const end = request.offset + request.size;
  if (request.offset > state.length) return { kind: "gap", length: state.length };
  if (state.complete) {
    if (end < state.length && !request.complete) return { kind: "stored", complete: false };
    if (end === state.length) return { kind: "stored", complete: false };
    return { kind: "conflict", length: state.length, why: "the log is complete" };
  }
  if (request.complete && end < state.length) {
    return {
      kind: "conflict",
      length: state.length,
      why: `the log already has ${state.length} bytes; it cannot be complete at ${end}`,
    };
  }
  if (end > maxBytes) return { kind: "too-large", limit: maxBytes };
  if (end <= state.length) return { kind: "stored", complete: request.complete };
  return { kind: "store", from: state.length - request.offset, complete: request.complete };
}
