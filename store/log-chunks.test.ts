import { describe, test } from "node:test";
import {
  type AppendDecision,
  type Chunk,
  chunkName,
  contiguousLength,
  decideAppend,
  parseChunkName,
  readPlan,
} from "./log-chunks.ts";

const c = (start: number, end: number): Chunk => ({ start, end });

describe("chunk names", () => {
  test("sort by name as by offset, and parse back; other names are not chunks", (t) => {
    const names = [c(100, 250), c(0, 100), c(9, 10)].map(chunkName).sort();
    t.assert.deepEqual(names.map(parseChunkName), [c(0, 100), c(9, 10), c(100, 250)]);
    t.assert.equal(chunkName(c(5, 7)), "chunk-0000000000000005-0000000000000007");
    for (const bad of ["data", "chunk-1-2", "chunk-0000000000000005-0000000000000005", "chunk-x"]) {
      t.assert.equal(parseChunkName(bad), undefined, bad);
    }
  });
});

describe("contiguousLength", () => {
  const table: Array<[string, Chunk[], number]> = [
    ["nothing", [], 0],
    ["one chunk from 0", [c(0, 10)], 10],
    ["back to back", [c(0, 10), c(10, 25)], 25],
    ["out of order", [c(10, 25), c(0, 10)], 25],
    ["a gap stops it", [c(0, 10), c(12, 20)], 10],
    ["not from 0", [c(5, 10)], 0],
    ["overlaps (two replicas raced on one offset)", [c(0, 10), c(0, 18), c(10, 30)], 30],
    ["a chunk inside another", [c(0, 50), c(10, 20), c(50, 60)], 60],
  ];
  for (const [name, chunks, length] of table) {
    test(name, (t) => t.assert.equal(contiguousLength(chunks), length));
  }
});

describe("readPlan", () => {
  const pieces = (chunks: Chunk[], from: number, to: number) =>
    readPlan(chunks, from, to).map((p) => [p.chunk.start, p.skip, p.take]);
  test("whole, from an offset, up to a limit", (t) => {
    const chunks = [c(0, 10), c(10, 25)];
    t.assert.deepEqual(pieces(chunks, 0, 25), [
      [0, 0, 10],
      [10, 0, 15],
    ]);
    t.assert.deepEqual(pieces(chunks, 4, 25), [
      [0, 4, 6],
      [10, 0, 15],
    ]);
    t.assert.deepEqual(pieces(chunks, 12, 20), [[10, 2, 8]]);
    t.assert.deepEqual(pieces(chunks, 25, 25), []);
  });
  test("overlapping chunks are read once; nothing past a gap", (t) => {
    t.assert.deepEqual(pieces([c(0, 10), c(0, 18), c(10, 30)], 0, 30), [
      [0, 0, 18],
      [10, 8, 12],
    ]);
    t.assert.deepEqual(pieces([c(0, 10), c(12, 20)], 0, 20), [[0, 0, 10]]);
  });
});

describe("decideAppend", () => {
  const open = (length: number) => ({ length, complete: false });
  const done = (length: number) => ({ length, complete: true });
  const max = 1000;
  const table: Array<
    [string, { length: number; complete: boolean }, [number, number, boolean], AppendDecision]
  > = [
    ["the next bytes", open(10), [10, 5, false], { kind: "store", from: 0, complete: false }],
    ["the first bytes", open(0), [0, 5, false], { kind: "store", from: 0, complete: false }],
    ["a retry of stored bytes", open(10), [5, 5, false], { kind: "stored", complete: false }],
    [
      "a retry reaching past the end stores the new part",
      open(10),
      [5, 10, false],
      {
        kind: "store",
        from: 5,
        complete: false,
      },
    ],
    ["a gap: resume at the length", open(10), [12, 5, false], { kind: "gap", length: 10 }],
    ["the last bytes complete the log", open(10), [10, 5, true], { kind: "store", from: 0, complete: true }],
    ["an empty final append completes it", open(10), [10, 0, true], { kind: "stored", complete: true }],
    ["an empty log completes", open(0), [0, 0, true], { kind: "stored", complete: true }],
    [
      "complete at a length shorter than stored",
      open(10),
      [5, 0, true],
      {
        kind: "conflict",
        length: 10,
        why: "the log already has 10 bytes; it cannot be complete at 5",
      },
    ],
    ["a retry of the final append", done(15), [10, 5, true], { kind: "stored", complete: false }],
    ["a late retry of an earlier append", done(15), [0, 5, false], { kind: "stored", complete: false }],
    [
      "more bytes after completion",
      done(15),
      [15, 1, false],
      {
        kind: "conflict",
        length: 15,
        why: "the log is complete",
      },
    ],
    ["a gap after completion is still a gap", done(15), [20, 1, false], { kind: "gap", length: 15 }],
    ["past the size limit", open(990), [990, 20, false], { kind: "too-large", limit: 1000 }],
    ["up to the size limit", open(990), [990, 10, false], { kind: "store", from: 0, complete: false }],
  ];
  for (const [name, state, [offset, size, complete], expected] of table) {
    test(name, (t) => t.assert.deepEqual(decideAppend(state, { offset, size, complete }, max), expected));
  }
});
