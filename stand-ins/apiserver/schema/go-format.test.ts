// The Go formatting kube-apiserver's messages are made of (%q, %v, %#v, encoding/json), case by case.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  cloneJSON,
  goBadValue,
  goFloat,
  goJSON,
  goNumber,
  goQuote,
  goSharpV,
  jsonTypeName,
} from "./go-format.ts";

describe("Go formatting", () => {
  const quotes: [string, string][] = [
    ["plain", '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["back\\slash", '"back\\\\slash"'],
    ["tab\tnew\nline\r", '"tab\\tnew\\nline\\r"'],
    ["\u0001\u007f", '"\\x01\\x7f"'],
    ["\u0085", '"\\u0085"'],
    ["héllo 🙂", '"héllo 🙂"'],
  ];
  for (const [text, quoted] of quotes)
    test(`%q of ${JSON.stringify(text)}`, () => assert.equal(goQuote(text), quoted));

  const floats: [number, string][] = [
    [0, "0"],
    [1.5, "1.5"],
    [-2.25, "-2.25"],
    [123456, "123456"],
    [1e6, "1e+06"],
    [1234567.5, "1.2345675e+06"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1e21, "1e+21"],
  ];
  for (const [n, text] of floats) test(`%v of float64 ${n}`, () => assert.equal(goFloat(n), text));

  test("%v of a decoded JSON number: integers print whole (int64), fractions as float64", () => {
    assert.equal(goNumber(1e6), "1000000");
    assert.equal(goNumber(2 ** 53), "9007199254740992");
    assert.equal(goNumber(0.5), "0.5");
  });

  test("%#v of maps and slices sorts keys like Go", () => {
    assert.equal(
      goSharpV({ b: 1, a: ["x", true, null] }),
      'map[string]interface {}{"a":[]interface {}{"x", true, interface {}(nil)}, "b":1}',
    );
  });

  test("a field error's bad value: quoted strings, plain numbers, null as the string null", () => {
    assert.deepEqual(
      [goBadValue("x"), goBadValue(3), goBadValue(false), goBadValue(null)],
      ['"x"', "3", "false", '"null"'],
    );
  });

  test("encoding/json: sorted keys, HTML characters escaped", () => {
    assert.equal(
      goJSON({ z: "<a&b>", a: [1, { d: 1, c: 2 }] }),
      '{"a":[1,{"c":2,"d":1}],"z":"\\u003ca\\u0026b\\u003e"}',
    );
  });

  test("JSON type names as kube-openapi reports them", () => {
    assert.deepEqual([1, 1.5, "s", true, null, [], {}].map(jsonTypeName), [
      "integer",
      "number",
      "string",
      "boolean",
      "null",
      "array",
      "object",
    ]);
  });

  test("cloneJSON copies deeply and keeps a __proto__ key as data", () => {
    const input = JSON.parse('{"a":{"b":[1,{"c":2}]},"__proto__":{"polluted":true}}');
    const copy = cloneJSON(input);
    assert.deepEqual(copy, input);
    assert.notEqual(copy.a, input.a);
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.deepEqual(Object.keys(copy), ["a", "__proto__"]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
