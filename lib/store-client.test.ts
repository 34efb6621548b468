// The client's own logic, against a scripted store: backoff, and LogAppender's batching, riding out an
// outage with a bounded buffer, resuming after a 409, completing, and giving up at the deadline. The real
// store is exercised in test/integration/store.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { LogAppendAnswer, StepRef } from "../api/store-protocol.ts";
import { backoffMs, LogAppender, LogConflictError, StoreError } from "./store-client.ts";

describe("backoffMs", () => {
  const table: Array<[number, number, number]> = [
    // attempt, random, expected (base 100, max 10 s)
    [0, 1, 100],
    [1, 1, 200],
    [3, 0.5, 400],
    [10, 1, 10_000],
    [10, 0, 0],
  ];
  for (const [attempt, random, expected] of table) {
    test(`attempt ${attempt}, random ${random}`, (t) =>
      t.assert.equal(
        backoffMs(attempt, 100, 10_000, () => random),
        expected,
      ));
  }
});

const ref: StepRef = { namespace: "ns", build: "b", step: "s" };

/** A store that keeps one log, appends as the real one decides, and fails when told to. */
class ScriptedStore {
  log = Buffer.alloc(0);
  complete = false;
  calls: Array<{ offset: number; size: number; complete: boolean }> = [];
  down = false;

  async append(
    _ref: StepRef,
    offset: number,
    bytes: Uint8Array,
    options: { complete?: boolean } = {},
  ): Promise<LogAppendAnswer> {
    this.calls.push({ offset, size: bytes.length, complete: options.complete === true });
    if (this.down) throw new StoreError("connect ECONNREFUSED", undefined, true);
    if (offset > this.log.length || (this.complete && offset + bytes.length > this.log.length)) {
      throw new LogConflictError("gap", { length: this.log.length, complete: this.complete });
    }
    const fresh = Buffer.from(bytes).subarray(this.log.length - offset);
    this.log = Buffer.concat([this.log, fresh]);
    if (options.complete) this.complete = true;
    return { length: this.log.length, complete: this.complete };
  }
}

const immediate = { backoff: () => 0, sleep: () => new Promise<void>((resolve) => setImmediate(resolve)) };

describe("LogAppender", () => {
  test("writes are batched into chunks, sent in order, and the log completed on close", async (t) => {
    const store = new ScriptedStore();
    const appender = new LogAppender(store, ref, { chunkBytes: 10, flushMs: 1, ...immediate });
    for (const word of ["alpha ", "beta ", "gamma ", "delta\n"]) appender.write(Buffer.from(word));
    const stats = await appender.close();
    t.assert.equal(store.log.toString(), "alpha beta gamma delta\n");
    t.assert.equal(store.complete, true);
    t.assert.deepEqual(stats, { sent: 23, dropped: 0, complete: true, queued: 0 });
    assert.ok(store.calls.every((c) => c.size <= 10));
    t.assert.equal(store.calls.at(-1)?.complete, true);
  });

  test("an empty step completes an empty log", async (t) => {
    const store = new ScriptedStore();
    const stats = await new LogAppender(store, ref, immediate).close();
    t.assert.deepEqual(stats, { sent: 0, dropped: 0, complete: true, queued: 0 });
    t.assert.deepEqual(store.calls, [{ offset: 0, size: 0, complete: true }]);
  });

  test("an outage longer than the buffer: the oldest output goes, a note says how much, the rest arrives", async (t) => {
    const store = new ScriptedStore();
    store.down = true;
    const appender = new LogAppender(store, ref, {
      chunkBytes: 8,
      maxBufferBytes: 16,
      flushMs: 1,
      ...immediate,
    });
    appender.write(Buffer.from("0123456789")); // the first 8 go out (and fail) while the rest queue
    await new Promise((resolve) => setTimeout(resolve, 5));
    appender.write(Buffer.from("abcdefghij"));
    appender.write(Buffer.from("KLMNOPQRST"));
    store.down = false;
    const stats = await appender.close();
    // The chunk in flight is kept; of what queued behind it (22 bytes), the oldest 6 were dropped.
    t.assert.equal(stats.dropped, 6);
    t.assert.equal(
      store.log.toString(),
      "01234567\n[kiln: 6 bytes of output dropped: the store could not take them]\nefghijKLMNOPQRST",
    );
    // The note takes room of its own: no append is larger than the chunk size (the store's limit).
    assert.ok(
      store.calls.every(
        (c) => c.size <= 8 + "\n[kiln: 6 bytes of output dropped: the store could not take them]\n".length,
      ),
    );
    t.assert.deepEqual(stats, { sent: store.log.length, dropped: 6, complete: true, queued: 0 });
  });

  test("a store that lost what it had acknowledged: a 409 with a shorter length; the rest goes on from there", async (t) => {
    const store = new ScriptedStore();
    const appender = new LogAppender(store, ref, { chunkBytes: 100, flushMs: 1, ...immediate });
    appender.write(Buffer.from("first\n"));
    while (appender.stats.sent < 6) await new Promise((resolve) => setTimeout(resolve, 1));
    store.log = Buffer.from("fir"); // a restore from an old backup, say
    appender.write(Buffer.from("second\n"));
    await appender.close();
    t.assert.equal(store.log.toString(), "fir\n[kiln: 3 bytes of output lost by the store]\nsecond\n");
  });

  test("a log completed elsewhere stops the appender", async (t) => {
    const store = new ScriptedStore();
    store.log = Buffer.from("done");
    store.complete = true;
    const appender = new LogAppender(store, ref, { chunkBytes: 100, flushMs: 1, ...immediate });
    appender.write(Buffer.from("more"));
    const stats = await appender.close();
    t.assert.equal(stats.complete, true);
    t.assert.equal(store.log.toString(), "done");
  });

  test("close gives up at its deadline while the store stays away; the log stays incomplete", async (t) => {
    const store = new ScriptedStore();
    store.down = true;
    const appender = new LogAppender(store, ref, {
      flushMs: 1,
      backoff: () => 5,
      sleep: (ms, signal) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          signal?.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    });
    appender.write(Buffer.from("never sent"));
    const stats = await appender.close(50);
    t.assert.deepEqual(stats, { sent: 0, dropped: 0, complete: false, queued: 0 });
    t.assert.equal(store.complete, false);
  });

  test("every written byte is reported consumed once: acknowledged, dropped, or past a refusal", async (t) => {
    const store = new ScriptedStore();
    store.down = true;
    let consumed = 0;
    const health: boolean[] = [];
    const appender = new LogAppender(store, ref, {
      chunkBytes: 8,
      maxBufferBytes: 16,
      flushMs: 1,
      onConsumed: (n) => (consumed += n),
      onHealth: (ok) => health.push(ok),
      ...immediate,
    });
    appender.write(Buffer.from("0123456789"));
    await new Promise((resolve) => setTimeout(resolve, 5));
    appender.write(Buffer.from("abcdefghijKLMNOPQRST"));
    store.down = false;
    await appender.close();
    t.assert.equal(consumed, 30, "acknowledged and dropped bytes add up to all written");
    t.assert.deepEqual(health, [false, true]);
  });

  test("a refusal for good (403) ends the appender at once: no retries, the rest counted consumed", async (t) => {
    let calls = 0;
    let consumed = 0;
    const refusing = {
      append: async () => {
        calls++;
        throw new StoreError("cannot append: 403 not this Build's", 403, false);
      },
    };
    const appender = new LogAppender(refusing, ref, {
      flushMs: 1,
      onConsumed: (n) => (consumed += n),
      ...immediate,
    });
    appender.write(Buffer.from("secret-free output"));
    const stats = await appender.close(60_000);
    t.assert.equal(calls, 1);
    t.assert.equal(stats.refused, "cannot append: 403 not this Build's");
    t.assert.equal(stats.complete, false);
    appender.write(Buffer.from("late"));
    t.assert.equal(consumed, 22);
  });
});
