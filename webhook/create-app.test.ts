import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import examples from "@octokit/webhooks-examples" with { type: "json" };
import { sign } from "@octokit/webhooks-methods";
import type { BuildInput } from "../api/build.ts";
import { UnavailableError } from "../lib/http-error.ts";
import {
  deliver,
  makeRepository,
  memoryRepositories,
  memorySecrets,
  serveApp,
} from "../test/fixtures/webhook.ts";
import type { BuildSink } from "./deps.ts";

const SECRET = "It's a Secret to Everybody";
const hello = makeRepository("hello", "Codertocat", "Hello-World", { branches: ["master", "main"] });
const octocoders = makeRepository("octo", "Octocoders", "Hello-World");

type Expect = [status: number, builds: number];
// What a user expects of each example payload for a Repository watching master with tags off.
const EXPECTED: Record<string, Expect[]> = {
  push: [
    [202, 0], // tag push, spec.tags false
    [202, 0], // tag deleted
    [202, 0],
    [202, 0],
    [201, 1], // push to master
    [201, 1],
    [202, 0],
  ],
  ping: [
    [200, 0],
    [200, 0],
    [200, 0],
    [202, 0], // organization hook: names no repository
  ],
  create: Array.from({ length: 5 }, (): Expect => [202, 0]),
  delete: Array.from({ length: 4 }, (): Expect => [202, 0]),
};
const PR_BUILDS = new Set(["opened", "synchronize", "reopened"]);

describe("every example payload of push, ping, pull_request, create, delete", () => {
  let app: Awaited<ReturnType<typeof serveApp>>;
  before(async () => {
    app = await serveApp({
      repositories: memoryRepositories([hello, octocoders]),
      secrets: memorySecrets({ hello: [SECRET], octo: [SECRET] }),
    });
  });
  after(() => app.close());

  const events = (
    examples as unknown as Array<{ name: string; examples: Array<Record<string, unknown>> }>
  ).filter((e) => ["push", "ping", "pull_request", "create", "delete"].includes(e.name));
  assert.equal(events.length, 5);
  for (const event of events) {
    event.examples.forEach((payload, i) => {
      const action = typeof payload.action === "string" ? payload.action : undefined;
      const expected: Expect =
        event.name === "pull_request"
          ? PR_BUILDS.has(action ?? "")
            ? [201, 1]
            : [202, 0]
          : EXPECTED[event.name]![i]!;
      test(`${event.name}[${i}]${action ? ` ${action}` : ""} → ${expected[0]}`, async () => {
        const before = app.names.size;
        const response = await deliver(app.url, { event: event.name, payload, secret: SECRET });
        assert.equal(response.status, expected[0], response.body.message);
        assert.equal(app.names.size - before, expected[1]);
        assert.equal(typeof response.body.message, "string");
      });
    });
  }
});

describe("deliveries", () => {
  const push = (examples as unknown as Array<{ name: string; examples: unknown[] }>).find(
    (e) => e.name === "push",
  )!.examples[4];
  let created: string[] = [];
  let last: BuildInput | undefined;
  let down = false;
  const builds: BuildSink = {
    async create(build) {
      if (down) throw new UnavailableError("the Kubernetes API is unavailable; try again");
      last = build;
      const name = build.metadata.name!;
      if (created.includes(name)) return "exists";
      created.push(name);
      return "created";
    },
  };
  let app: Awaited<ReturnType<typeof serveApp>>;
  before(async () => {
    app = await serveApp({
      repositories: memoryRepositories([hello]),
      secrets: memorySecrets({ hello: ["new secret", SECRET] }),
      builds,
      maxBodyBytes: 64 * 1024,
      now: () => Date.parse("2026-03-04T05:06:07.089Z"),
    });
  });
  after(() => app.close());

  test("the Build records the push chain and when the delivery arrived", async () => {
    const parent = "5".repeat(40);
    const linked = { ...(push as object), before: parent };
    const response = await deliver(app.url, { event: "push", payload: linked, secret: SECRET });
    assert.equal(response.status, 201);
    assert.equal(last?.spec.revision.before, parent);
    assert.equal(last?.spec.trigger?.receivedAt, "2026-03-04T05:06:07.089Z");
  });

  test("a duplicated delivery makes one Build; the second answer says it exists", async () => {
    created = [];
    const first = await deliver(app.url, { event: "push", payload: push, secret: SECRET, id: "dup-1" });
    const second = await deliver(app.url, { event: "push", payload: push, secret: SECRET, id: "dup-1" });
    assert.equal(first.status, 201);
    assert.equal(second.status, 200);
    assert.match(second.body.message, /already exists/);
    assert.equal(created.length, 1);
    assert.deepEqual(second.body.builds, created);
  });

  test("a missing signature is 401 and creates nothing", async () => {
    created = [];
    const response = await deliver(app.url, { event: "push", payload: push });
    assert.equal(response.status, 401);
    assert.equal(created.length, 0);
  });

  test("a wrong signature is 401 and creates nothing", async () => {
    created = [];
    const wrong = await deliver(app.url, { event: "push", payload: push, secret: "guess" });
    const garbage = await deliver(app.url, { event: "push", payload: push, signature: "sha1=abc" });
    assert.equal(wrong.status, 401);
    assert.equal(garbage.status, 401);
    assert.equal(created.length, 0);
  });

  test("a body changed after signing is 401", async () => {
    created = [];
    const body = JSON.stringify(push);
    const signature = await sign(SECRET, body);
    const tampered = body.replace("master", "main");
    const response = await deliver(app.url, { event: "push", payload: push, body: tampered, signature });
    assert.equal(response.status, 401);
    assert.equal(created.length, 0);
  });

  test("both secrets verify during rotation", async () => {
    created = [];
    const a = await deliver(app.url, { event: "push", payload: push, secret: "new secret" });
    const b = await deliver(app.url, { event: "push", payload: push, secret: SECRET });
    assert.deepEqual([a.status, b.status], [201, 201]);
  });

  /** POSTs exactly these bytes with a signature over `signed` (the same bytes unless a test says otherwise). */
  const postBytes = (bytes: Buffer, signed: Buffer = bytes) =>
    fetch(app.url, {
      method: "POST",
      body: bytes,
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(signed).digest("hex")}`,
      },
    });

  test("the signature covers the raw bytes: non-ASCII text verifies, other bytes for the same text do not", async () => {
    created = [];
    const message = "Fix Ünïcødé — 🚀";
    const payload = structuredClone(push) as { head_commit: { message: string } };
    payload.head_commit.message = message;
    const json = JSON.stringify(payload);
    assert.equal((await postBytes(Buffer.from(json, "utf8"))).status, 201);
    assert.equal(created.length, 1);
    // The same payload with its non-ASCII characters escaped, as another JSON writer might send it:
    // other bytes, so the signature of the unescaped bytes must not verify (as it would for a server
    // that hashed a re-serialisation of the parsed payload).
    const escaped = json.replace(
      /[^ -~]/g, // every character outside printable ASCII (JSON.stringify leaves no control characters)
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
    assert.deepEqual(JSON.parse(escaped), payload);
    assert.notEqual(escaped, json);
    assert.equal((await postBytes(Buffer.from(escaped), Buffer.from(json, "utf8"))).status, 401);
    assert.equal(created.length, 1);
  });

  test("a correctly signed body that is not UTF-8 is 400, never decoded with replacement characters", async () => {
    const json = Buffer.from(JSON.stringify(push), "utf8");
    const invalid = Buffer.concat([json.subarray(0, 20), Buffer.from([0xc3, 0x28]), json.subarray(20)]);
    const response = await postBytes(invalid);
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { message: string }).message, /UTF-8/);
  });

  test("malformed JSON is 400", async () => {
    const response = await deliver(app.url, {
      event: "push",
      payload: null,
      body: "{not json",
      secret: SECRET,
    });
    assert.equal(response.status, 400);
    assert.match(response.body.message, /malformed JSON/);
  });

  test("a push payload missing fields is 400 naming the field", async () => {
    const { after: _after, ...broken } = push as Record<string, unknown>;
    const response = await deliver(app.url, { event: "push", payload: broken, secret: SECRET });
    assert.equal(response.status, 400);
    assert.match(response.body.message, /after/);
  });

  test("an unknown repository is 404 with its name", async () => {
    const payload = {
      ...(push as object),
      repository: { full_name: "someone/else", name: "else", owner: { login: "someone" } },
    };
    const response = await deliver(app.url, { event: "push", payload, secret: SECRET });
    assert.equal(response.status, 404);
    assert.match(response.body.message, /someone\/else/);
  });

  test("an ignored event is 202 with a reason", async () => {
    const response = await deliver(app.url, { event: "issues", payload: push, secret: SECRET });
    assert.equal(response.status, 202);
    assert.match(response.body.message, /does not act on issues/);
  });

  test("API server down → 503, nothing recorded", async () => {
    created = [];
    down = true;
    try {
      const response = await deliver(app.url, { event: "push", payload: push, secret: SECRET });
      assert.equal(response.status, 503);
      assert.equal(created.length, 0);
    } finally {
      down = false;
    }
  });

  test("a body over the cap is 413 (declared length, before reading)", async () => {
    const big = "x".repeat(65 * 1024);
    const response = await deliver(app.url, { event: "push", payload: null, body: big, secret: SECRET });
    assert.equal(response.status, 413);
  });

  test("a chunked body over the cap is 413 and the server stops reading", async () => {
    const { hostname, port, pathname } = new URL(app.url);
    const LIMIT = 64 * 1024 * 1024;
    let sent = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          hostname,
          port,
          path: pathname,
          method: "POST",
          headers: {
            "x-github-event": "push",
            "x-github-delivery": "big",
            "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
            "transfer-encoding": "chunked",
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on("error", (err) =>
        (err as NodeJS.ErrnoException).code === "ECONNRESET" ||
        (err as NodeJS.ErrnoException).code === "EPIPE"
          ? undefined
          : reject(err),
      );
      const chunk = Buffer.alloc(16 * 1024, "x");
      // Keep writing far past the 64 kB cap: the answer must come long before 64 MB are sent.
      const pump = () => {
        while (sent < LIMIT && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });
    assert.equal(status, 413);
    assert.ok(sent < LIMIT, `the server read the whole ${sent}-byte body before answering`);
  });

  test("GET is 405 with Allow: POST; health endpoints answer", async () => {
    const response = await fetch(app.url);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("allow"), "POST");
    const base = new URL(app.url).origin;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  test("missing event or delivery headers are 400", async () => {
    const response = await fetch(app.url, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    assert.equal(response.status, 400);
  });

  test("a form-encoded delivery (content type x-www-form-urlencoded) verifies and builds", async () => {
    created = [];
    const body = new URLSearchParams({ payload: JSON.stringify(push) }).toString();
    const signature = await sign(SECRET, body);
    const response = await fetch(app.url, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-github-event": "push",
        "x-github-delivery": "form-1",
        "x-hub-signature-256": signature,
      },
    });
    assert.equal(response.status, 201);
    assert.equal(created.length, 1);
  });
});

describe("two Repositories watching one GitHub repository", () => {
  const push = (examples as unknown as Array<{ name: string; examples: unknown[] }>).find(
    (e) => e.name === "push",
  )!.examples[4];
  const a = makeRepository("hello", "Codertocat", "Hello-World", { branches: ["master"] }, "team-a");
  const b = makeRepository("hello", "Codertocat", "Hello-World", { branches: ["master"] }, "team-b");
  let app: Awaited<ReturnType<typeof serveApp>>;
  before(async () => {
    app = await serveApp({
      repositories: memoryRepositories([a, b]),
      secrets: memorySecrets({ hello: [SECRET] }),
    });
  });
  after(() => app.close());

  const deliverPush = (query = "") =>
    deliver(`${app.url}${query}`, { event: "push", payload: push, secret: SECRET });
  const createdIn = () => [...app.names].map((name) => name.split("/")[0]).sort();

  test("a hook registered by Kiln (?repository=<ns>/<name>) builds for that Repository only", async () => {
    app.names.clear();
    const response = await deliverPush("?repository=team-a%2Fhello");
    assert.equal(response.status, 201);
    assert.equal(response.body.builds?.length, 1);
    assert.deepEqual(createdIn(), ["team-a"]);
  });

  test("a hand-made hook without the parameter builds for each Repository whose secret verifies", async () => {
    app.names.clear();
    const response = await deliverPush();
    assert.equal(response.status, 201);
    assert.equal(response.body.builds?.length, 2);
    assert.deepEqual(createdIn(), ["team-a", "team-b"]);
  });

  test("a hook registered by Kiln is verified before its payload is parsed: forged garbage is 401, not 400", async () => {
    const forged = await deliver(`${app.url}?repository=team-a%2Fhello`, {
      event: "push",
      payload: null,
      body: "{not json",
      secret: "guessed",
    });
    assert.equal(forged.status, 401);
    const signed = await deliver(`${app.url}?repository=team-a%2Fhello`, {
      event: "push",
      payload: null,
      body: "{not json",
      secret: SECRET,
    });
    assert.equal(signed.status, 400);
  });

  test("a signed delivery about another GitHub repository on a Repository's hook is 404", async () => {
    app.names.clear();
    const other = {
      ...(push as object),
      repository: { full_name: "someone/else", name: "else", owner: { login: "someone" } },
    };
    const response = await deliver(`${app.url}?repository=team-a%2Fhello`, {
      event: "push",
      payload: other,
      secret: SECRET,
    });
    assert.equal(response.status, 404);
    assert.equal(app.names.size, 0);
  });

  test("a parameter naming a Repository that does not watch the payload's repository is 404", async () => {
    const response = await deliverPush("?repository=team-c%2Fhello");
    assert.equal(response.status, 404);
  });
});
