import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "./clock.ts";
import { WorkQueue } from "./work-queue.ts";

describe("WorkQueue", () => {
  test("a key added many times while waiting is handed out once", async (t) => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add("a");
    q.add("b");
    q.add("a");
    q.add("a");
    t.assert.equal(q.length, 2);
    t.assert.equal(await q.get(), "a");
    t.assert.equal(await q.get(), "b");
    t.assert.equal(q.length, 0);
  });

  test("a key being processed is not handed to a second worker; re-added, it comes back after done", async (t) => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add("a");
    const first = await q.get();
    q.add("a");
    t.assert.equal(q.length, 0, "the re-added key waits for done()");
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await new Promise((r) => setImmediate(r));
    t.assert.equal(second, undefined);
    q.done(first!);
    await new Promise((r) => setImmediate(r));
    t.assert.equal(second, "a");
  });

  test("concurrent workers never hold the same key at once", async (t) => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const held = new Set<string>();
    let overlaps = 0;
    let processed = 0;
    const worker = async () => {
      for (;;) {
        const key = await q.get();
        if (key === undefined) return;
        if (held.has(key)) overlaps++;
        held.add(key);
        await new Promise((r) => setImmediate(r));
        held.delete(key);
        processed++;
        q.done(key);
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    for (let round = 0; round < 50; round++) {
      for (const key of ["a", "b", "c"]) q.add(key);
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 20));
    q.shutDown();
    await Promise.all(workers);
    t.assert.equal(overlaps, 0);
    assert.ok(processed >= 3 && processed <= 150);
  });

  test("per-key backoff doubles on each failure, is capped, and is forgotten on success", async (t) => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 10, maxDelayMs: 50, qps: 1000, burst: 1000 });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = clock.now();
      q.addRateLimited("a");
      t.assert.equal(q.length, 0);
      let waited = 0;
      while (q.length === 0 && waited < 1000) {
        clock.advance(1);
        waited++;
      }
      delays.push(clock.now() - start);
      q.done((await q.get())!);
      assert.ok(waited > 0);
    }
    t.assert.deepEqual(delays, [10, 20, 40, 50, 50]);
    t.assert.equal(q.retries("a"), 5);
    q.forget("a");
    t.assert.equal(q.retries("a"), 0);
  });

  test("addAfter keeps the earliest of several delays and dedups with add", (t) => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter("a", 100);
    q.addAfter("a", 30);
    q.addAfter("a", 200);
    t.assert.equal(q.delayed, 1);
    clock.advance(29);
    t.assert.equal(q.length, 0);
    clock.advance(1);
    t.assert.equal(q.length, 1);
    clock.advance(500);
    t.assert.equal(q.length, 1, "the later delays were dropped");
  });

  test("the overall rate limit spaces retries once the burst is spent", (t) => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 0, qps: 10, burst: 2 });
    for (const key of ["a", "b", "c", "d"]) q.addRateLimited(key);
    t.assert.equal(q.length, 2, "the burst goes at once");
    clock.advance(100);
    t.assert.equal(q.length, 3);
    clock.advance(100);
    t.assert.equal(q.length, 4);
  });

  test("shutDown releases waiting workers", async (t) => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const waiting = q.get();
    q.shutDown();
    t.assert.equal(await waiting, undefined);
    q.add("x");
    t.assert.equal(q.length, 0);
  });
});
