import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TerminalSizeDecoder } from "./terminal-size.ts";

/** Feeds the chunks in order; the sizes decoded and whether the decoder still reads. */
function decode(...chunks: string[]) {
  const d = new TerminalSizeDecoder();
  const sizes = chunks.flatMap((c) => d.push(Buffer.from(c)));
  return { sizes: sizes.map((s) => `${s.width}x${s.height}`), ok: d.ok };
}

describe("terminal sizes", () => {
  const cases: [string, string[], string[], boolean][] = [
    ["one, as kubectl's json.Encoder writes it", ['{"Width":80,"Height":24}\n'], ["80x24"], true],
    [
      "several in one chunk",
      ['{"Width":80,"Height":24}\n{"Width":100,"Height":30}\n'],
      ["80x24", "100x30"],
      true,
    ],
    ["split anywhere", ['{"Wid', 'th":80,"Hei', 'ght":24}', "\n"], ["80x24"], true],
    ["no separator needed", ['{"Width":1,"Height":2}{"Width":3,"Height":4}'], ["1x2", "3x4"], true],
    ["field names fold case; others are ignored", ['{"width":7,"HEIGHT":9,"x":"y"}'], ["7x9"], true],
    ["a later key for the same field wins", ['{"Width":1,"width":5,"Height":2}'], ["5x2"], true],
    [
      "a zero side is dropped, the stream goes on",
      ['{"Width":0,"Height":24}{"Width":8,"Height":9}'],
      ["8x9"],
      true,
    ],
    ["null changes nothing", ['null {"Width":8,"Height":9}'], ["8x9"], true],
    ["a missing field is zero: dropped", ['{"Width":80}'], [], true],
    ["a string side ends resizing", ['{"Width":"80","Height":24}{"Width":8,"Height":9}'], [], false],
    ["beyond uint16 ends resizing", ['{"Width":65536,"Height":24}'], [], false],
    ["negative ends resizing", ['{"Width":-1,"Height":24}'], [], false],
    ["a fraction ends resizing", ['{"Width":1.5,"Height":24}'], [], false],
    ["not an object ends resizing", ["[80,24]"], [], false],
    ["bad JSON ends resizing", ['{"Width":80,}'], [], false],
    [
      "sizes before a bad value still count",
      ['{"Width":8,"Height":9}\n42\n{"Width":1,"Height":1}'],
      ["8x9"],
      false,
    ],
    ["an incomplete value waits", ['{"Width":80,"Height":'], [], true],
  ];
  for (const [name, chunks, sizes, ok] of cases) {
    test(name, () => assert.deepEqual(decode(...chunks), { sizes, ok }));
  }

  test("a value that never completes is given up on", () => {
    assert.deepEqual(decode(`{"Width":80,"x":"${"a".repeat(5000)}`), { sizes: [], ok: false });
  });
});
