// `kiln store` with both backends (files on a temporary directory; S3 through s3rver on 127.0.0.1), through
// lib/store-client.ts as the agent and the CLI will use it, with real tokens from the test API server:
// logs appended, retried, resumed after a 409, completed, read whole, from an offset and followed live;
// caches saved and restored by exact key and by fallback, two saves of one key at once; everything kept
// across a restart; retention and least-recently-used eviction; a store outage ridden out by LogAppender.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import type { StepRef } from "../../api/store-protocol.ts";
import { LogAppender, LogConflictError, StoreClient } from "../../lib/store-client.ts";
import type { RunningStore } from "../../store/main.ts";
import { waitFor } from "../wait-for.ts";
import {
  type BackendChoice,
  buildPod,
  readerToken,
  runStore,
  type S3Server,
  type StoreWorld,
  startS3,
  startWorld,
} from "./store-harness.ts";

let world: StoreWorld;
let s3: S3Server;

before(async () => {
  world = await startWorld();
  s3 = await startS3(world.scratch);
});
after(async () => {
  await s3?.stop();
  await world?.stop();
});

async function bytesOf(stream: Readable | AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Waits until the wall clock is in a later second (S3 keeps times in whole seconds). */
async function nextSecond(): Promise<void> {
  const second = Math.floor(Date.now() / 1000);
  await waitFor("the next second", () => Math.floor(Date.now() / 1000) > second, 2000);
}

let builds = 0;
const clientOf = (store: RunningStore, token: string) =>
  new StoreClient({ url: store.url, token: () => token, backoff: { baseMs: 10, maxMs: 200 } });

for (const kind of ["files", "s3"] as const) {
  describe(`the store on ${kind}`, () => {
    let backend: BackendChoice;
    let store: RunningStore;

    before(async () => {
      backend =
        kind === "files"
          ? { kind, dir: await mkdtemp(join(world.scratch, "files-")) }
          : { kind, endpoint: s3.endpoint, prefix: `run-${Date.now()}/` };
      store = await runStore(world, backend);
    });
    after(() => store?.close());

    async function agent(options: { branch?: string; repository?: string } = {}) {
      const build = `app-${kind}-${++builds}`;
      const { token } = await buildPod(world, {
        namespace: "team-a",
        build,
        branch: options.branch ?? "main",
        ...(options.repository ? { repository: options.repository } : {}),
      });
      return { build, client: clientOf(store, token), token };
    }

    test("a log appended in chunks, retried, resumed after a gap, completed, read whole and from an offset", async () => {
      const { build, client } = await agent();
      const ref: StepRef = { namespace: "team-a", build, step: "npm test" };
      assert.deepEqual(await client.append(ref, 0, Buffer.from("hello ")), { length: 6, complete: false });
      // A retry of a chunk the store already has (its answer was lost): accepted, not doubled.
      assert.deepEqual(await client.append(ref, 0, Buffer.from("hello ")), { length: 6, complete: false });
      // A retry that overlaps and goes further stores only the new part.
      assert.deepEqual(await client.append(ref, 3, Buffer.from("lo world")), { length: 11, complete: false });
      // A gap is refused with the length, and the client resumes there.
      const gap = await client.append(ref, 20, Buffer.from("lost?")).catch((err: unknown) => err);
      assert.ok(gap instanceof LogConflictError, String(gap));
      assert.equal(gap.length, 11);
      assert.equal(gap.complete, false);
      await client.append(ref, gap.length, Buffer.from("\n"));
      const partial = await client.readLog(ref);
      assert.equal(partial?.complete, false);
      assert.equal((await bytesOf(partial!.body)).toString(), "hello world\n");
      assert.deepEqual(await client.append(ref, 12, Buffer.from("done\n"), { complete: true }), {
        length: 17,
        complete: true,
      });
      // The last append retried after completion is fine; more bytes are not.
      assert.deepEqual(await client.append(ref, 12, Buffer.from("done\n"), { complete: true }), {
        length: 17,
        complete: true,
      });
      const more = await client.append(ref, 17, Buffer.from("x")).catch((err: unknown) => err);
      assert.ok(more instanceof LogConflictError && more.complete && more.length === 17);
      const whole = await client.readLog(ref);
      assert.deepEqual([whole?.length, whole?.complete], [17, true]);
      assert.equal((await bytesOf(whole!.body)).toString(), "hello world\ndone\n");
      assert.equal(
        (await bytesOf((await client.readLog(ref, { offset: 6 }))!.body)).toString(),
        "world\ndone\n",
      );
      assert.equal((await bytesOf((await client.readLog(ref, { offset: 17 }))!.body)).length, 0);
      await assert.rejects(client.readLog(ref, { offset: 18 }), /416/);
      assert.equal(await client.readLog({ ...ref, step: "lint" }), undefined);
    });

    test("steps the agent numbered list in the pipeline's order, whenever their logs were written", async () => {
      const { build, client } = await agent();
      await client.append({ namespace: "team-a", build, step: "zeta" }, 0, Buffer.from("second\n"), {
        complete: true,
        index: 1,
      });
      await nextSecond();
      await client.append({ namespace: "team-a", build, step: "alpha" }, 0, Buffer.from("first\n"), {
        complete: true,
        index: 0,
      });
      const steps = await client.steps({ namespace: "team-a", build });
      assert.deepEqual(
        steps.map((s) => [s.step, s.index, s.length]),
        [
          ["alpha", 0, 6],
          ["zeta", 1, 7],
        ],
      );
      await assert.rejects(
        client.append({ namespace: "team-a", build, step: "bad" }, 0, Buffer.from("x"), { index: -1 }),
        /400/,
      );
    });

    test("a Build's steps, in the order they began, with lengths; a reader with builds/log reads them", async () => {
      const { build, client } = await agent();
      await client.append({ namespace: "team-a", build, step: "install" }, 0, Buffer.from("ok\n"), {
        complete: true,
      });
      await nextSecond();
      await client.append({ namespace: "team-a", build, step: "test" }, 0, Buffer.from("running"));
      const steps = await client.steps({ namespace: "team-a", build });
      assert.deepEqual(
        steps.map((s) => [s.step, s.length, s.complete]),
        [
          ["install", 3, true],
          ["test", 7, false],
        ],
      );
      const reader = clientOf(store, await readerToken(world, "team-a", true));
      assert.equal((await reader.steps({ namespace: "team-a", build })).length, 2);
      const log = await reader.readLog({ namespace: "team-a", build, step: "install" });
      assert.equal((await bytesOf(log!.body)).toString(), "ok\n");
      assert.deepEqual(await reader.steps({ namespace: "team-a", build: "nothing-here" }), []);
    });

    test("a reader follows a log live while the agent writes it, and stops when it is complete", async () => {
      const { build, client } = await agent();
      const ref: StepRef = { namespace: "team-a", build, step: "build" };
      const reader = clientOf(store, await readerToken(world, "team-a", true));
      // The reader starts before the step has written anything.
      const followed = bytesOf(reader.followLog(ref));
      const appender = new LogAppender(client, ref, { chunkBytes: 4096, flushMs: 5 });
      const expected: Buffer[] = [];
      let written = 0;
      for (let i = 0; i < 200; i++) {
        const line = Buffer.from(`line ${i} ${randomBytes(40).toString("hex")}\n`);
        expected.push(line);
        appender.write(line);
        written += line.length;
        // Let the appender ship some of it while the rest is written.
        if (i % 20 === 0)
          await waitFor("some of it shipped", () => appender.stats.sent >= written - 4096 || undefined);
      }
      const stats = await appender.close();
      assert.deepEqual(stats, { sent: written, dropped: 0, complete: true, queued: 0 });
      assert.ok((await reader.readLog(ref))!.length === written);
      assert.equal((await followed).toString(), Buffer.concat(expected).toString());
      // Following from the middle of a complete log gives the rest and ends.
      assert.equal((await bytesOf(reader.followLog(ref, { offset: written - 10 }))).length, 10);
    });

    test("caches: the exact key, then the newest of a prefix on the branch, then the default branch; a miss", async () => {
      const repository = `lib-${kind}`;
      const main = await agent({ branch: "main", repository });
      const feature = await agent({ branch: "feature/x", repository });
      const repo = { namespace: "team-a", repository };
      const save = async (who: typeof main, key: string, content: string) =>
        who.client.saveCache({ ...repo, key }, Readable.from([Buffer.from(content)]));
      assert.deepEqual(await save(main, "npm-aaa", "main aaa"), { key: "npm-aaa", branch: "main", size: 8 });
      await nextSecond();
      await save(main, "npm-bbb", "main bbb");
      await save(feature, "npm-ccc", "feature ccc");
      const restore = async (who: typeof main, key: string, branches: string[], prefixes = ["npm-"]) => {
        const hit = await who.client.restoreCache(repo, { key, prefixes, branches });
        return hit && [hit.key, hit.branch, hit.exact, (await bytesOf(hit.body)).toString()];
      };
      assert.deepEqual(await restore(feature, "npm-ccc", ["feature/x", "main"]), [
        "npm-ccc",
        "feature/x",
        true,
        "feature ccc",
      ]);
      assert.deepEqual(await restore(feature, "npm-zzz", ["feature/x", "main"]), [
        "npm-ccc",
        "feature/x",
        false,
        "feature ccc",
      ]);
      assert.deepEqual(await restore(feature, "npm-aaa", ["fresh", "main"]), [
        "npm-aaa",
        "main",
        true,
        "main aaa",
      ]);
      assert.deepEqual(await restore(feature, "npm-zzz", ["fresh", "main"]), [
        "npm-bbb",
        "main",
        false,
        "main bbb",
      ]);
      assert.equal(await restore(feature, "go-1", ["feature/x", "main"], ["go-"]), undefined);
      assert.equal(
        await feature.client.restoreCache(repo, { key: "npm-zzz", branches: ["main"] }),
        undefined,
        "no prefix: exact only",
      );
      assert.deepEqual(await feature.client.lookupCache(repo, { key: "npm-bbb", branches: ["main"] }), {
        key: "npm-bbb",
        branch: "main",
        exact: true,
        size: 8,
      });
      // Another repository's caches are not this build's to see.
      const other = await agent({ repository: "other" });
      await assert.rejects(other.client.restoreCache(repo, { key: "npm-aaa", branches: ["main"] }), /403/);
    });

    test("two saves of one key at once both succeed; a restore gets one of them whole, never a mix", async () => {
      const repository = `race-${kind}`;
      const a = await agent({ repository });
      const b = await agent({ repository });
      const repo = { namespace: "team-a", repository };
      const big = (fill: number) => Buffer.alloc(12 * 1024 * 1024, fill); // over two S3 parts
      // Slow streams, so both uploads are under way at the same time.
      const slow = (content: Buffer) =>
        Readable.from(
          (async function* () {
            for (let at = 0; at < content.length; at += 1024 * 1024) {
              yield content.subarray(at, at + 1024 * 1024);
              await new Promise((resolve) => setImmediate(resolve));
            }
          })(),
        );
      const [one, two] = await Promise.all([
        a.client.saveCache({ ...repo, key: "k" }, slow(big(1))),
        b.client.saveCache({ ...repo, key: "k" }, slow(big(2))),
      ]);
      assert.equal(one.size, 12 * 1024 * 1024);
      assert.equal(two.size, 12 * 1024 * 1024);
      const hit = await a.client.restoreCache(repo, { key: "k", branches: ["main"] });
      const got = await bytesOf(hit!.body);
      assert.equal(got.length, 12 * 1024 * 1024);
      assert.ok(got.equals(big(1)) || got.equals(big(2)), "one save's bytes, whole");
      // A restore reading while a new save replaces the archive still gets one archive whole.
      const reading = a.client
        .restoreCache(repo, { key: "k", branches: ["main"] })
        .then((h) => bytesOf(h!.body));
      await b.client.saveCache({ ...repo, key: "k" }, slow(big(3)));
      const during = await reading;
      assert.ok([1, 2, 3].some((fill) => during.equals(big(fill))));
    });

    test("a restarted store keeps what it stored", async () => {
      const { build, client, token } = await agent({ repository: `keep-${kind}` });
      const ref: StepRef = { namespace: "team-a", build, step: "s" };
      await client.append(ref, 0, Buffer.from("kept\n"), { complete: true });
      await client.append({ ...ref, step: "open" }, 0, Buffer.from("half"));
      await client.saveCache(
        { namespace: "team-a", repository: `keep-${kind}`, key: "k1" },
        Readable.from([Buffer.from("cache")]),
      );
      await store.close();
      store = await runStore(world, backend);
      const again = clientOf(store, token);
      assert.equal((await bytesOf((await again.readLog(ref))!.body)).toString(), "kept\n");
      // An open log goes on where it was.
      assert.deepEqual(
        await again.append({ ...ref, step: "open" }, 4, Buffer.from(" more"), { complete: true }),
        {
          length: 9,
          complete: true,
        },
      );
      const hit = await again.restoreCache(
        { namespace: "team-a", repository: `keep-${kind}` },
        { key: "k1", branches: ["main"] },
      );
      assert.equal((await bytesOf(hit!.body)).toString(), "cache");
    });

    test("retention: logs go after their time; caches over the limit go least recently used first", async () => {
      let ahead = 0;
      const now = () => Date.now() + ahead;
      const fresh: BackendChoice =
        kind === "files"
          ? { kind, dir: await mkdtemp(join(world.scratch, "sweep-")) }
          : { kind, endpoint: s3.endpoint, prefix: `sweep-${Date.now()}/` };
      const swept = await runStore(world, fresh, ["--log-retention", "1h", "--cache-max-bytes", "1Mi"], {
        now,
      });
      try {
        const { build, token } = await agent({ repository: `sweep-${kind}` });
        const client = clientOf(swept, token);
        const ref: StepRef = { namespace: "team-a", build, step: "s" };
        await client.append(ref, 0, Buffer.from("old\n"), { complete: true });
        const repo = { namespace: "team-a", repository: `sweep-${kind}` };
        const kib400 = () => Readable.from([Buffer.alloc(400 * 1024, 7)]);
        await client.saveCache({ ...repo, key: "a" }, kib400());
        await nextSecond();
        await client.saveCache({ ...repo, key: "b" }, kib400());
        await nextSecond();
        // a is used again: b is now the least recently used.
        await bytesOf((await client.restoreCache(repo, { key: "a", branches: ["main"] }))!.body);
        await nextSecond();
        // c takes the caches over the limit (a sweep comes soon by itself; this one runs after it).
        await client.saveCache({ ...repo, key: "c" }, kib400());
        const first = await swept.sweeper.run();
        assert.deepEqual(first.expiredBuilds, []);
        assert.equal(first.cacheBytes, 800 * 1024);
        assert.equal(await client.lookupCache(repo, { key: "b", branches: ["main"] }), undefined);
        assert.ok(await client.lookupCache(repo, { key: "a", branches: ["main"] }));
        assert.ok(await client.lookupCache(repo, { key: "c", branches: ["main"] }));
        assert.ok(await client.readLog(ref));
        // Two hours on, the log is past its retention.
        ahead = 2 * 3_600_000;
        const second = await swept.sweeper.run();
        assert.deepEqual(second.expiredBuilds, [`team-a/${build}`]);
        assert.equal(await client.readLog(ref), undefined);
        assert.deepEqual(await client.steps({ namespace: "team-a", build }), []);
      } finally {
        await swept.close();
      }
    });
  });
}

describe("the store's edges", () => {
  let store: RunningStore;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(world.scratch, "edges-"));
    store = await runStore(world, { kind: "files", dir }, [
      "--max-chunk-bytes",
      "64k",
      "--max-archive-bytes",
      "1Mi",
    ]);
  });
  after(() => store?.close());

  test("bounded bodies: a log chunk or an archive over the limit is refused with 413 and stores nothing", async () => {
    const { token } = await buildPod(world, { namespace: "team-a", build: "edges-1", branch: "main" });
    const client = clientOf(store, token);
    const ref: StepRef = { namespace: "team-a", build: "edges-1", step: "s" };
    await assert.rejects(client.append(ref, 0, Buffer.alloc(65 * 1000)), /413/);
    assert.equal(await client.readLog(ref), undefined);
    // Streamed with no length given: the store stops it at the cap.
    const endless = Readable.from(
      (async function* () {
        for (let i = 0; i < 64; i++) yield Buffer.alloc(64 * 1024);
      })(),
    );
    await assert.rejects(
      client.saveCache({ namespace: "team-a", repository: "app", key: "big" }, endless),
      /413|socket|reset|EPIPE/,
    );
    assert.equal(
      await client.lookupCache(
        { namespace: "team-a", repository: "app" },
        { key: "big", branches: ["main"] },
      ),
      undefined,
    );
    await waitFor("the interrupted upload's temporary file to go", async () => {
      const { readdir } = await import("node:fs/promises");
      return (await readdir(join(dir, ".tmp"))).length === 0 || undefined;
    });
  });

  test("bad requests get clear 400s, unknown paths 404, wrong methods 405", async () => {
    const { token } = await buildPod(world, { namespace: "team-a", build: "edges-2", branch: "main" });
    const call = async (method: string, path: string) => {
      const res = await fetch(`${store.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
      });
      return [res.status, ((await res.json()) as { message: string }).message];
    };
    assert.deepEqual(await call("PUT", "/v1/logs/team-a/edges-2/s"), [
      400,
      "offset is required (a byte offset)",
    ]);
    assert.deepEqual(await call("PUT", "/v1/logs/team-a/edges-2/s?offset=-1"), [
      400,
      'offset must be a non-negative integer, not "-1"',
    ]);
    assert.match(String((await call("GET", "/v1/logs/Team_A/edges-2/s"))[1]), /not a valid namespace/);
    assert.match(String((await call("GET", "/v1/logs/team-a/edges-2/..%2Fetc"))[1]), /not a valid step/);
    assert.deepEqual((await call("GET", "/v1/caches/team-a/app"))[0], 400);
    assert.deepEqual((await call("GET", "/v2/logs"))[0], 404);
    assert.deepEqual((await call("DELETE", "/v1/logs/team-a/edges-2/s"))[0], 405);
  });

  test("probes and metrics", async () => {
    assert.equal((await fetch(`${store.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${store.url}/readyz`)).status, 200);
    const metrics = await (await fetch(`${store.metricsURL}/metrics`)).text();
    assert.match(metrics, /kiln_store_requests_total\{route="append-log",code="413"\} 1/);
    assert.match(metrics, /kiln_store_received_bytes_total/);
    assert.match(metrics, /process_cpu_seconds_total/);
  });

  test("a store outage: LogAppender holds the output and sends it when the store is back, the log whole", async () => {
    const { token } = await buildPod(world, { namespace: "team-a", build: "edges-3", branch: "main" });
    const port = Number(new URL(store.url).port);
    const client = clientOf(store, token);
    const ref: StepRef = { namespace: "team-a", build: "edges-3", step: "long" };
    const appender = new LogAppender(client, ref, { chunkBytes: 1024, flushMs: 5 });
    appender.write(Buffer.from("before\n"));
    await waitFor("the first line shipped", () => appender.stats.sent === 7 || undefined);
    await store.close();
    for (let i = 0; i < 100; i++) appender.write(Buffer.from(`during ${i}\n`));
    store = await runStore(world, { kind: "files", dir }, ["--max-chunk-bytes", "64k"], { port });
    appender.write(Buffer.from("after\n"));
    const stats = await appender.close();
    const expected = `before\n${Array.from({ length: 100 }, (_, i) => `during ${i}\n`).join("")}after\n`;
    assert.deepEqual(stats, { sent: expected.length, dropped: 0, complete: true, queued: 0 });
    const log = await clientOf(store, token).readLog(ref);
    assert.equal((await bytesOf(log!.body)).toString(), expected);
  });
});
