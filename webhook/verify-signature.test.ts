import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { isWellFormedSignature, verifySignature } from "./verify-signature.ts";

const BODY = '{"zen":"Keep it logically awesome."}';
/** GitHub's X-Hub-Signature-256 of `body` under `secret` (an empty secret is a valid HMAC key). */
const signed = (secret: string, body = BODY) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

test("a Repository with no webhook secret rejects every signature, even one anyone can compute", async () => {
  const anyone = [signed(""), signed("guess"), `sha256=${"0".repeat(64)}`, `sha256=${"f".repeat(64)}`];
  for (const secrets of [[], [""], ["", ""]]) {
    for (const signature of anyone) {
      assert.equal(
        await verifySignature(secrets, BODY, signature),
        false,
        `${JSON.stringify(secrets)} accepted ${signature}`,
      );
    }
  }
});

test("which signatures verify against which secrets", async () => {
  const rows: [what: string, secrets: string[], body: string, signature: string, expected: boolean][] = [
    ["the one secret", ["s3cret"], BODY, signed("s3cret"), true],
    ["another secret", ["s3cret"], BODY, signed("other"), false],
    ["the current of two", ["new", "old"], BODY, signed("new"), true],
    ["the previous of two (rotation)", ["new", "old"], BODY, signed("old"), true],
    ["neither of two", ["new", "old"], BODY, signed("older"), false],
    ["an empty secret is skipped, the real one still verifies", ["", "s3cret"], BODY, signed("s3cret"), true],
    ["an empty secret is skipped, never used as a key", ["", "s3cret"], BODY, signed(""), false],
    ["the third of three", ["a", "b", "c"], BODY, signed("c"), true],
    ["another body", ["s3cret"], `${BODY} `, signed("s3cret"), false],
    ["an empty body verifies nothing", ["s3cret"], "", signed("s3cret", ""), false],
    ["upper-case hex is not what GitHub sends", ["s3cret"], BODY, signed("s3cret").toUpperCase(), false],
  ];
  for (const [what, secrets, body, signature, expected] of rows) {
    assert.equal(await verifySignature(secrets, body, signature), expected, what);
  }
});

test("a well-formed signature is sha256= and 64 lower-case hex digits, nothing around it", () => {
  const hex = "0123456789abcdef".repeat(4);
  const rows: [signature: string | undefined, expected: boolean][] = [
    [`sha256=${hex}`, true],
    [undefined, false],
    ["", false],
    [`sha1=${hex.slice(0, 40)}`, false],
    [`sha256=${hex.slice(1)}`, false],
    [`sha256=${hex}0`, false],
    [`sha256=${hex.toUpperCase()}`, false],
    [`sha256=${hex.slice(1)}g`, false],
    [` sha256=${hex}`, false],
    [`sha256=${hex}\n`, false],
    [`xsha256=${hex}`, false],
    [hex, false],
  ];
  for (const [signature, expected] of rows) {
    assert.equal(isWellFormedSignature(signature), expected, JSON.stringify(signature));
  }
});
