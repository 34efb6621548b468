import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { LinePrefixer, Tail } from "./output.ts";

test("LinePrefixer prefixes every line across arbitrary chunk boundaries", () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: fc.constantFrom("a", "b", "\n", "é") })), (chunks) => {
      const p = new LinePrefixer("x | ");
      const out = chunks.map((c) => p.transform(Buffer.from(c)).toString()).join("") + p.flush().toString();
      const text = chunks.join("");
      const expected =
        text === ""
          ? ""
          : `${text.replace(/\n(?!$)/g, "\nx | ").replace(/^/, "x | ")}${text.endsWith("\n") ? "" : "\n"}`;
      assert.equal(out, expected);
    }),
  );
});

test("Tail keeps only the last bytes, however much is written", () => {
  const t = new Tail(32);
  for (let i = 0; i < 10_000; i++) t.write(Buffer.from(`line ${i}\n`));
  assert.equal(t.text(2), "line 9998\nline 9999");
  const big = new Tail(8);
  big.write(Buffer.alloc(1 << 20, "a"));
  big.write(Buffer.from("xyz"));
  assert.equal(big.text(), "aaaaaxyz");
});

test("Tail matches the last bytes of everything written, for any chunking", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 40 })),
      fc.integer({ min: 1, max: 32 }),
      (chunks, limit) => {
        const t = new Tail(limit);
        for (const c of chunks) t.write(Buffer.from(c));
        const all = Buffer.concat(chunks.map((c) => Buffer.from(c)));
        const expected = all
          .subarray(Math.max(0, all.length - limit))
          .toString("utf8")
          .replace(/\n$/, "");
        assert.equal(t.text(Number.MAX_SAFE_INTEGER), expected);
      },
    ),
  );
});
