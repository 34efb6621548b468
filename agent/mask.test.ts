import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { MASK, Masker, maskPatterns } from "./mask.ts";

/** The whole text through a masker, cut into chunks at `cuts` (byte offsets). */
function streamed(values: string[], text: Buffer, cuts: number[] = []): string {
  const m = new Masker(values);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    out.push(Buffer.from(m.write(text.subarray(from, cut))));
    from = cut;
  }
  out.push(Buffer.from(m.write(text.subarray(from))), m.flush());
  return Buffer.concat(out).toString();
}

/** A naive reference: mark every byte any occurrence covers, one MASK per overlapping group. */
function reference(values: string[], text: string): string {
  const patterns = maskPatterns(values).map((p) => p.toString("latin1"));
  const t = Buffer.from(text).toString("latin1");
  const spans: [number, number][] = [];
  for (let i = 0; i < t.length; i++)
    for (const p of patterns) if (t.startsWith(p, i)) spans.push([i, i + p.length]);
  spans.sort((a, b) => a[0] - b[0]);
  let out = "";
  let at = 0;
  let end = -1;
  for (const [s, e] of spans) {
    if (s < end) {
      end = Math.max(end, e);
      continue;
    }
    if (end > at) at = end;
    out += t.slice(at, s) + MASK;
    at = s;
    end = e;
  }
  out += t.slice(Math.max(at, end));
  return Buffer.from(out, "latin1").toString();
}

describe("maskPatterns", () => {
  test("each value whole, and each line of a multi-line value of at least 4 bytes; longest first", () => {
    const cases: { values: string[]; patterns: string[] }[] = [
      { values: [], patterns: [] },
      { values: [""], patterns: [] },
      { values: ["s3cret"], patterns: ["s3cret"] },
      { values: ["ab"], patterns: ["ab"] },
      { values: ["tok", "longer-token", "tok"], patterns: ["longer-token", "tok"] },
      { values: ["line one\n}\nline two\n"], patterns: ["line one\n}\nline two\n", "line one", "line two"] },
      { values: ["abcd\r\nxyz\r\n"], patterns: ["abcd\r\nxyz\r\n", "abcd"] },
      { values: ["é\néé"], patterns: ["é\néé", "éé"] },
    ];
    for (const c of cases) {
      assert.deepEqual(
        maskPatterns(c.values).map((p) => p.toString()),
        c.patterns,
        JSON.stringify(c.values),
      );
    }
  });
});

describe("Masker", () => {
  test("a table of texts, whole and cut at every byte", () => {
    const cases: { values: string[]; text: string; out: string }[] = [
      { values: [], text: "nothing to hide", out: "nothing to hide" },
      { values: ["hunter2"], text: "password: hunter2\n", out: "password: ***\n" },
      { values: ["hunter2"], text: "hunter2hunter2 hunter", out: "****** hunter" },
      { values: ["hunter2"], text: "hunter hunter2", out: "hunter ***" },
      // Overlapping values: one mask for the group, nothing of either left showing.
      { values: ["abcd", "cdefgh"], text: "xabcdefghy", out: "x***y" },
      { values: ["token", "tok"], text: "tok token toke", out: "*** *** ***e" },
      { values: ["aaa"], text: "aaaaa", out: "***" },
      { values: ["aaa"], text: "aaaaaa", out: "***" },
      {
        values: ["-----BEGIN KEY-----\nMIIEvQIBADAN\n-----END KEY-----"],
        text: "cat key:\n-----BEGIN KEY-----\nMIIEvQIBADAN\n-----END KEY-----\ngrep: MIIEvQIBADAN\n",
        out: "cat key:\n***\ngrep: ***\n",
      },
      { values: ["é-secret"], text: "x é-secret é", out: "x *** é" },
    ];
    for (const c of cases) {
      const text = Buffer.from(c.text);
      assert.equal(streamed(c.values, text), c.out, `${c.text} whole`);
      for (let cut = 1; cut < text.length; cut++)
        assert.equal(streamed(c.values, text, [cut]), c.out, `${c.text} cut at ${cut}`);
      assert.equal(
        streamed(
          c.values,
          text,
          [...text.keys()].map((i) => i + 1),
        ),
        c.out,
        `${c.text} byte by byte`,
      );
      assert.equal(new Masker(c.values).maskText(c.text), c.out);
    }
  });

  test("holds back only what may still begin a secret, and gives it out at the end", () => {
    const m = new Masker(["secret"]);
    assert.equal(m.write(Buffer.from("a sec")).toString(), "a ");
    assert.equal(m.write(Buffer.from("ond")).toString(), "second");
    assert.equal(m.write(Buffer.from("se")).toString(), "");
    assert.equal(m.flush().toString(), "se");
    assert.equal(m.flush().toString(), "");
  });

  test("a value that is not UTF-8 is masked by its bytes", () => {
    const value = Buffer.from([0xff, 0xfe, 0x41, 0x0a, 0x80, 0x81, 0x82, 0x83]);
    const text = Buffer.concat([Buffer.from("a "), value, Buffer.from(" b "), value.subarray(4)]);
    const m = new Masker([value]);
    const out = Buffer.concat([m.write(text.subarray(0, 5)), m.write(text.subarray(5)), m.flush()]);
    assert.equal(out.toString(), "a *** b ***");
  });

  test("without values every chunk comes back as it is", () => {
    const m = new Masker([]);
    const chunk = Buffer.from("as is");
    assert.equal(m.write(chunk), chunk);
    assert.equal(m.active, false);
  });

  const byte = fc.constantFrom("a", "b", "c", "\n", "é", " ");
  const value = fc.string({ unit: byte, minLength: 1, maxLength: 8 });

  test("property: any chunking gives what a naive masker gives for the whole text", () => {
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 3 }),
        fc.array(fc.oneof(fc.string({ unit: byte, maxLength: 10 }), fc.nat(2)), { maxLength: 12 }),
        fc.array(fc.nat(200), { maxLength: 10 }),
        (values, parts, cuts) => {
          // Text made of filler and the values themselves (a part that is a number names a value).
          const text = parts.map((p) => (typeof p === "number" ? (values[p] ?? "") : p)).join("");
          const bytes = Buffer.from(text);
          const out = streamed(
            values,
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          );
          assert.equal(out, reference(values, text));
          // No value survives (the values have no '*', so the mask cannot make one).
          for (const v of values)
            assert.ok(!out.includes(v), `${JSON.stringify(v)} in ${JSON.stringify(out)}`);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("property: text with no secret in it passes unchanged, at most longest − 1 bytes behind", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom("a", "b", "x"), minLength: 2, maxLength: 6 }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.array(fc.string({ unit: fc.constantFrom("a", "b", "\n"), maxLength: 20 }), { maxLength: 10 }),
        (values, chunks) => {
          // Every value has an x and the text none: nothing to mask.
          const secrets = values.map((v) => `${v}x`);
          const longest = Math.max(...secrets.map((s) => Buffer.byteLength(s)));
          const m = new Masker(secrets);
          let inBytes = 0;
          let outBytes = 0;
          const out: string[] = [];
          for (const c of chunks) {
            inBytes += Buffer.byteLength(c);
            const o = m.write(Buffer.from(c));
            outBytes += o.length;
            out.push(o.toString());
            assert.ok(inBytes - outBytes <= longest - 1, `${inBytes - outBytes} held back`);
          }
          out.push(m.flush().toString());
          assert.equal(out.join(""), chunks.join(""));
        },
      ),
    );
  });
});
