// The most serious way the webhook could break: a Repository whose webhook secret is missing accepting any
// signature. Through the app and the real Secret source: every way a Repository can end up with no secret
// rejects every delivery with 401 and creates nothing, on a hook naming its Repository and on a hand-made one.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import examples from "@octokit/webhooks-examples" with { type: "json" };
import type { Repository } from "../api/repository.ts";
import { deliver, makeRepository, memoryRepositories, serveApp } from "../test/fixtures/webhook.ts";
import { cachedSecretSource, type SecretReader } from "./kube-secrets.ts";

const push = (examples as unknown as Array<{ name: string; examples: unknown[] }>).find(
  (e) => e.name === "push",
)!.examples[4]!;
const b64 = (text: string) => Buffer.from(text).toString("base64");
const SECRET = "It's a Secret to Everybody";
/** Watches the same GitHub repository with a secret: the control that shows deliveries can verify at all. */
const keyed = makeRepository("hello", "Codertocat", "Hello-World", { branches: ["master"] }, "keyed");

// Each watches Codertocat/Hello-World's master, in a namespace of its own so a hand-made hook finds it alone.
const cases: { what: string; repository: Repository; secrets: Record<string, Record<string, string>> }[] = [
  {
    what: "its Secret does not exist",
    repository: makeRepository("hello", "Codertocat", "Hello-World", { branches: ["master"] }, "missing"),
    secrets: {},
  },
  {
    what: "its Secret lacks the key",
    repository: makeRepository("hello", "Codertocat", "Hello-World", { branches: ["master"] }, "nokey"),
    secrets: { "nokey/hello-webhook": { token: b64("ghp_x"), "secret.previous": "" } },
  },
  {
    what: "the key is empty",
    repository: makeRepository("hello", "Codertocat", "Hello-World", { branches: ["master"] }, "empty"),
    secrets: { "empty/hello-webhook": { secret: "", "secret.previous": "" } },
  },
  {
    what: "it has no spec.webhook",
    repository: makeRepository(
      "hello",
      "Codertocat",
      "Hello-World",
      { branches: ["master"], webhook: undefined },
      "nowebhook",
    ),
    secrets: { "nowebhook/hello-webhook": { secret: b64("unused") } },
  },
];

describe("a Repository with no webhook secret rejects every delivery", () => {
  const secrets = Object.assign({}, ...cases.map((c) => c.secrets)) as Record<string, Record<string, string>>;
  secrets["keyed/hello-webhook"] = { secret: b64(SECRET) };
  const reader: SecretReader = { read: async (namespace, name) => secrets[`${namespace}/${name}`] };
  let app: Awaited<ReturnType<typeof serveApp>>;
  before(async () => {
    app = await serveApp({
      repositories: memoryRepositories([...cases.map((c) => c.repository), keyed]),
      secrets: cachedSecretSource(reader, { ttlMs: 30_000, now: () => Date.now() }),
    });
  });
  after(() => app.close());

  const body = JSON.stringify(push);
  const signed = (secret: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  // Signatures a forger can make without knowing any secret: HMAC under the empty key, a guess, zeros.
  const forged = [signed(""), signed("guess"), `sha256=${"0".repeat(64)}`];

  for (const { what, repository } of cases) {
    const { namespace, name } = repository.metadata as { namespace: string; name: string };
    test(`${what}: 401, nothing created`, async () => {
      app.names.clear();
      const named = `${app.url}?repository=${namespace}%2F${name}`;
      // On its own hook, not even another Repository's secret passes.
      const attempts: [url: string, signature: string][] = [
        ...forged.map((signature): [string, string] => [named, signature]),
        ...forged.map((signature): [string, string] => [app.url, signature]),
        [named, signed(SECRET)],
      ];
      for (const [url, signature] of attempts) {
        const response = await deliver(url, { event: "push", payload: push, body, signature });
        assert.equal(response.status, 401, `${url} took ${signature}: ${response.body.message}`);
        assert.match(response.body.message, /signature does not match the webhook secret/);
      }
      assert.equal(app.names.size, 0);
    });
  }

  test("a hand-made hook signed with another Repository's secret builds for that one only", async () => {
    app.names.clear();
    const response = await deliver(app.url, {
      event: "push",
      payload: push,
      body,
      signature: signed(SECRET),
    });
    assert.equal(response.status, 201, response.body.message);
    assert.deepEqual(
      [...app.names].map((build) => build.split("/")[0]),
      ["keyed"],
    );
  });
});
