// The build's log as server-sent events through the webhook's koa app, with a store stand-in in memory:
// a slow reader holds the follow back (no buffering of the whole log), and event streams are capped.
import assert from "node:assert/strict";
import { once } from "node:events";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import type { StepRef } from "../../api/store-protocol.ts";
import { sampleBuild, sampleRepository } from "../../test/fixtures/build.ts";
import { memoryRepositories, memorySecrets, serveApp } from "../../test/fixtures/webhook.ts";
import { MemoryBuildIndex } from "./build-index.ts";

const CHUNK = Buffer.alloc(64 * 1024, "x");
const CHUNKS = 512; // 32 MiB of log
const state = { pulled: 0, received: 0, maxAhead: 0 };
/** Follows that wait until released: to hold streams open for the cap. */
let hold: Promise<void> | undefined;

const store = {
  async steps() {
    return [{ step: "build", length: CHUNK.length * CHUNKS, complete: true, created: "", updated: "" }];
  },
  async *followLog(ref: StepRef, options: { offset?: number; signal?: AbortSignal } = {}) {
    if (ref.build === "held") {
      await hold;
      return;
    }
    for (let i = Math.floor((options.offset ?? 0) / CHUNK.length); i < CHUNKS; i++) {
      state.pulled += CHUNK.length;
      state.maxAhead = Math.max(state.maxAhead, state.pulled - state.received);
      yield CHUNK;
    }
  },
  async readLog(): Promise<never> {
    throw new Error("not used");
  },
};

const index = new MemoryBuildIndex();
for (const name of ["big", "held"])
  index.upsert(
    sampleBuild({ name, status: { phase: "Succeeded", steps: [{ name: "build", phase: "Succeeded" }] } }),
  );
let app: Awaited<ReturnType<typeof serveApp>>;
let base: URL;

before(async () => {
  app = await serveApp({
    repositories: memoryRepositories([sampleRepository()]),
    secrets: memorySecrets({}),
    page: { builds: index, store, maxEventStreams: 2 },
  });
  base = new URL(app.url);
});
after(() => app.close());

describe("the log as server-sent events", () => {
  test("a slow reader keeps the server from reading the log far ahead of it", async () => {
    const req = request(new URL("/builds/ci/big/events", base));
    req.end();
    const [res] = (await once(req, "response")) as [import("node:http").IncomingMessage];
    assert.equal(res.statusCode, 200);
    res.pause();
    // The reader is slow: it reads only after the server had every chance to run ahead (its follow stops).
    let last = -1;
    while (state.pulled !== last) {
      last = state.pulled;
      await new Promise((r) => setTimeout(r, 50));
    }
    res.on("data", (d: Buffer) => {
      state.received += d.length;
    });
    res.resume();
    await once(res, "end");
    assert.equal(state.pulled, CHUNK.length * CHUNKS);
    assert.ok(state.maxAhead < 12 * 1024 * 1024, `read ${state.maxAhead} bytes ahead of the reader`);
  });

  test("beyond the cap of event streams: 503 with Retry-After, and a slot is free again once one closes", async () => {
    let release = () => {};
    hold = new Promise((r) => {
      release = r;
    });
    const open = [new AbortController(), new AbortController()];
    const first = await Promise.all(
      open.map((a) => fetch(new URL("/builds/ci/held/events", base), { signal: a.signal })),
    );
    assert.deepEqual(
      first.map((r) => r.status),
      [200, 200],
    );
    const refused = await fetch(new URL("/builds/ci/held/events", base));
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "10");
    release();
    await Promise.all(first.map((r) => r.text()));
    const again = await fetch(new URL("/builds/ci/held/events", base));
    assert.equal(again.status, 200);
    await again.text();
  });
});
