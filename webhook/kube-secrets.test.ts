import assert from "node:assert/strict";
import { test } from "node:test";
import { makeRepository } from "../test/fixtures/webhook.ts";
import { cachedSecretSource, type SecretReader } from "./kube-secrets.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");

test("current and previous secret, cached for the TTL, read again when fresh is asked (at most once a second)", async () => {
  let data: Record<string, string> | undefined = { secret: b64("one"), "secret.previous": b64("zero") };
  let reads = 0;
  const reader: SecretReader = {
    read: async () => {
      reads++;
      return data;
    },
  };
  let now = 0;
  const source = cachedSecretSource(reader, { ttlMs: 30_000, now: () => now });
  const repository = makeRepository("api", "acme", "api");
  assert.deepEqual(await source.webhookSecrets(repository), ["one", "zero"]);
  data = { secret: b64("two") };
  assert.deepEqual(await source.webhookSecrets(repository), ["one", "zero"]); // cached
  assert.deepEqual(await source.webhookSecrets(repository, { fresh: true }), ["one", "zero"]); // within 1 s
  now = 1500;
  assert.deepEqual(await source.webhookSecrets(repository, { fresh: true }), ["two"]);
  assert.equal(reads, 2);
  now = 40_000;
  data = undefined; // the Secret was deleted
  assert.deepEqual(await source.webhookSecrets(repository), []);
});

test("a Repository without spec.webhook has no secrets", async () => {
  const source = cachedSecretSource({ read: async () => ({}) }, { ttlMs: 1000, now: () => 0 });
  assert.deepEqual(
    await source.webhookSecrets(makeRepository("api", "acme", "api", { webhook: undefined })),
    [],
  );
});
