import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Registry } from "prom-client";
import { silentLogger } from "../../lib/log.ts";
import { FakeClock } from "../../lib/runtime/clock.ts";
import { ChatQueue, type Delay, type Settled } from "./chat-queue.ts";
import type { ChatMessage } from "./format.ts";
import type { SendOutcome } from "./telegram.ts";

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
};

interface Harness {
  clock: FakeClock;
  queue: ChatQueue<string>;
  sends: { at: number; chat: string; text: string }[];
  events: string[];
  /** When each begin() was called. */
  begins: number[];
  finished: { chat: string; items: readonly string[]; outcome: Settled }[];
  delays: { chat: string; items: readonly string[]; delay: Delay }[];
  reachability: string[];
  /** Answers in order; an Error is thrown by the sender instead. */
  script: (SendOutcome | Error)[];
  /** While set, a send waits for it (the request is in flight). */
  gate?: Promise<void>;
  settledElsewhere: Set<string>;
  /** begin() throws while this is above 0 (the API server is away), counting down. */
  failBegins: number;
  registry: Registry;
}

const START = 1_000_000;

function harness(
  options: {
    digestThreshold?: number;
    perChatIntervalMs?: number;
    globalPerSecond?: number;
    maxDigest?: number;
    unreachableAfterMs?: number;
    staleAfterMs?: number;
    solo?: (item: string) => boolean;
    /** Transient failures a previous process recorded, per item. */
    failures?: Record<string, number>;
    /** Only the hooks a queue cannot do without, and no registry. */
    bare?: boolean;
  } = {},
): Harness {
  const clock = new FakeClock(START);
  const registry = new Registry();
  const h: Harness = {
    clock,
    sends: [],
    events: [],
    begins: [],
    finished: [],
    delays: [],
    reachability: [],
    script: [],
    settledElsewhere: new Set(),
    failBegins: 0,
    registry,
    queue: undefined as never,
  };
  const { staleAfterMs, solo, failures, bare, ...limits } = options;
  let id = 1;
  h.queue = new ChatQueue<string>({
    clock,
    log: silentLogger(),
    ...(bare ? {} : { registry }),
    ...limits,
    sender: {
      send: async (chat, message: ChatMessage) => {
        h.sends.push({ at: clock.now(), chat, text: message.text });
        h.events.push(`send ${chat} ${message.text}`);
        await h.gate;
        const answer = h.script.shift() ?? { kind: "sent", messageID: id++ };
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
    hooks: {
      render: (items) => ({ html: items.join("+"), text: items.join("+") }),
      begin: async (chat, items) => {
        h.events.push(`begin ${chat} ${items.join("+")}`);
        h.begins.push(clock.now());
        if (h.failBegins > 0) {
          h.failBegins--;
          throw new Error("the API server is not answering");
        }
        return items.filter((item) => !h.settledElsewhere.has(item));
      },
      finish: async (chat, items, outcome) => {
        h.events.push(`finish ${chat} ${items.join("+")} ${outcome.kind}`);
        h.finished.push({ chat, items, outcome });
      },
      delayed: async (chat, items, delay) => {
        h.delays.push({ chat, items, delay });
      },
      ...(bare
        ? {}
        : {
            reachability: (chat: string, unreachable: { sinceMs: number; answer: string } | undefined) => {
              h.reachability.push(
                unreachable
                  ? `${chat} unreachable since +${unreachable.sinceMs - START}: ${unreachable.answer}`
                  : `${chat} reachable`,
              );
            },
          }),
      staleAt: () => START + (staleAfterMs ?? 24 * 3_600_000),
      ...(solo ? { digestible: (item: string) => !solo(item) } : {}),
      ...(failures ? { failures: (item: string) => failures[item] ?? 0 } : {}),
    },
  });
  return h;
}

async function advance(h: Harness, ms: number, step = 100) {
  for (let t = 0; t < ms; t += step) {
    h.clock.advance(step);
    await settle();
  }
}

describe("ChatQueue", () => {
  test("records intent before sending, then the outcome; one message a second per chat", async () => {
    const h = harness({ digestThreshold: 100 });
    assert.equal(h.queue.enqueue("42", "a", "a"), true);
    h.queue.enqueue("42", "b", "b");
    h.queue.enqueue("7", "c", "c");
    assert.equal(h.queue.enqueue("42", "a", "a"), false, "an id already queued is not queued twice");
    await settle();
    assert.equal(h.queue.waiting("42"), 1, "b waits its second");
    assert.equal(h.queue.waiting("99"), 0, "a chat never written to");
    assert.deepEqual(
      h.events.filter((e) => e.includes(" 42 ")),
      ["begin 42 a", "send 42 a", "finish 42 a sent"],
    );
    await advance(h, 3000);
    assert.deepEqual(
      h.sends.map((s) => [s.chat, s.text]),
      [
        ["42", "a"],
        ["7", "c"],
        ["42", "b"],
      ],
    );
    const to42 = h.sends.filter((s) => s.chat === "42");
    assert.ok(to42[1]!.at - to42[0]!.at >= 1000);
  });

  test("429 retry_after is honoured, and what piled up meanwhile goes out as one digest", async () => {
    const h = harness({ digestThreshold: 3 });
    h.script.push({ kind: "retry", reason: "TooManyRequests", afterMs: 7000 });
    h.queue.enqueue("42", "a", "a");
    await settle();
    for (const id of ["b", "c", "d", "e"]) h.queue.enqueue("42", id, id);
    await advance(h, 6900);
    assert.equal(h.sends.length, 1, "nothing sent before retry_after");
    await advance(h, 200);
    assert.equal(h.sends.length, 2);
    assert.equal(h.sends[1]!.text, "a+b+c+d+e");
    assert.ok(h.sends[1]!.at - h.sends[0]!.at >= 7000);
    assert.deepEqual(h.finished.at(-1)!.items, ["a", "b", "c", "d", "e"]);
  });

  test("a burst below the digest threshold is sent one by one; at it, merged", async () => {
    const h = harness({ digestThreshold: 3 });
    for (const id of ["a", "b", "c", "d"]) h.queue.enqueue("42", id, id);
    await advance(h, 5000);
    assert.deepEqual(
      h.sends.map((s) => s.text),
      ["a", "b+c+d"],
    );
  });

  test("403 ends the batch and everything waiting for that chat as blocked; other chats go on", async () => {
    const h = harness({ digestThreshold: 100 });
    h.script.push({
      kind: "blocked",
      reason: "Forbidden",
      message: "Forbidden: bot was blocked by the user",
    });
    h.queue.enqueue("42", "a", "a");
    h.queue.enqueue("42", "b", "b");
    h.queue.enqueue("7", "c", "c");
    await advance(h, 3000);
    assert.deepEqual(
      h.finished.map((f) => [f.chat, f.items.join("+"), f.outcome.kind]),
      [
        ["42", "a+b", "blocked"],
        ["7", "c", "sent"],
      ],
    );
    assert.equal(h.sends.filter((s) => s.chat === "42").length, 1);
  });

  test("a group gets at most 20 messages a minute", async () => {
    const h = harness({ digestThreshold: 1000, perChatIntervalMs: 0 });
    for (let i = 0; i < 25; i++) h.queue.enqueue("-100", `m${i}`, `m${i}`);
    await advance(h, 59_000, 1000);
    assert.equal(h.sends.length, 20);
    await advance(h, 2000, 1000);
    assert.ok(h.sends.length > 20);
  });

  test("items settled elsewhere since they were queued are not sent", async () => {
    const h = harness({ digestThreshold: 100 });
    h.settledElsewhere.add("a");
    h.queue.enqueue("42", "a", "a");
    h.queue.enqueue("42", "b", "b");
    await advance(h, 3000);
    assert.deepEqual(
      h.sends.map((s) => s.text),
      ["b"],
    );
  });

  test("5xx and network errors back off exponentially, capped at a minute, and are never given up", async () => {
    const h = harness();
    for (let i = 0; i < 12; i++)
      h.script.push({ kind: "retry", reason: i % 2 ? "NetworkError" : "ServerError" });
    h.queue.enqueue("42", "a", "a");
    await advance(h, 10 * 60_000, 250);
    assert.equal(h.sends.length, 13, "every failure is tried again, the 13th attempt goes through");
    const gaps = h.sends.slice(1).map((s, i) => s.at - h.sends[i]!.at);
    // 1 s, 2 s, 4 s … doubling (to within the test clock's step), then 60 s flat.
    for (const [i, gap] of gaps.entries()) {
      const expected = Math.min(60_000, 1000 * 2 ** i);
      assert.ok(gap >= expected && gap < expected + 500, `gap ${i}: ${gap} ms, expected ${expected}`);
    }
    assert.deepEqual(
      h.finished.map((f) => f.outcome.kind),
      ["sent"],
    );
    assert.deepEqual(
      h.delays.map((d) => d.delay.failures),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
      "each delay is recorded with the failure count",
    );
    assert.match(h.delays[0]!.delay.answer, /ServerError/);
  });

  test("429 retry_after is waited out exactly and counts as no failure, however long the storm", async () => {
    const h = harness({ digestThreshold: 100 });
    for (const seconds of [30, 2, 17, 30])
      h.script.push({ kind: "retry", reason: "TooManyRequests", afterMs: seconds * 1000 });
    h.queue.enqueue("42", "a", "a");
    await advance(h, 100_000, 100);
    const gaps = h.sends.slice(1).map((s, i) => s.at - h.sends[i]!.at);
    for (const [i, seconds] of [30, 2, 17, 30].entries()) {
      assert.ok(gaps[i]! >= seconds * 1000 && gaps[i]! < seconds * 1000 + 200, `wait ${i}: ${gaps[i]}`);
    }
    assert.deepEqual(
      h.delays.map((d) => d.delay.failures),
      [0, 0, 0, 0],
    );
    assert.match(h.delays[0]!.delay.answer, /429 Too Many Requests: retry after 30s/);
    assert.deepEqual(
      h.finished.map((f) => f.outcome.kind),
      ["sent"],
    );
    assert.equal(h.sends.length, 5, "nothing sent twice");
  });

  test("still failing when the news goes stale: one last try, then Skipped as stale, never Failed", async () => {
    const h = harness({ staleAfterMs: 20_000 });
    for (let i = 0; i < 100; i++) h.script.push({ kind: "retry", reason: "ServerError" });
    h.queue.enqueue("42", "a", "a");
    await advance(h, 60_000, 250);
    assert.deepEqual(
      h.finished.map((f) => [f.outcome.kind, "reason" in f.outcome ? f.outcome.reason : ""]),
      [["stale", "Stale"]],
    );
    assert.equal(
      (h.finished[0]!.outcome as { message: string }).message,
      "still undelivered when it went stale: ServerError",
    );
    const last = h.sends.at(-1)!;
    assert.ok(
      last.at >= START + 20_000 && last.at < START + 20_500,
      "the last attempt is when it goes stale",
    );
  });

  test("a digest Telegram refuses as a message is split: its members go alone, none fails for it", async () => {
    const h = harness({ digestThreshold: 3 });
    h.script.push({ kind: "retry", reason: "TooManyRequests", afterMs: 5000 });
    h.queue.enqueue("42", "a", "a");
    await settle();
    for (const id of ["b", "c"]) h.queue.enqueue("42", id, id);
    h.script.push({ kind: "failed", reason: "BadRequest", message: "Bad Request: message is too long" });
    await advance(h, 30_000, 100);
    assert.deepEqual(
      h.sends.map((s) => s.text),
      ["a", "a+b+c", "a", "b", "c"],
    );
    assert.deepEqual(
      h.finished.map((f) => [f.items.join("+"), f.outcome.kind]),
      [
        ["a", "sent"],
        ["b", "sent"],
        ["c", "sent"],
      ],
    );
  });

  test("failures are counted per announcement, not taken from the digest they shared", async () => {
    const h = harness({ digestThreshold: 2 });
    for (let i = 0; i < 3; i++) h.script.push({ kind: "retry", reason: "ServerError" });
    h.queue.enqueue("42", "old", "old");
    await advance(h, 3000, 100); // old: two failures
    h.queue.enqueue("42", "new", "new");
    await advance(h, 60_000, 100);
    const digestDelays = h.delays.filter((d) => d.items.length === 1 && d.items[0] === "new");
    assert.deepEqual(
      digestDelays.map((d) => d.delay.failures),
      [1],
      "the newcomer's first failure is its first",
    );
  });

  test("the send intent cannot be recorded: nothing is sent, the batch backs off and is sent later", async () => {
    const h = harness({ digestThreshold: 100 });
    h.failBegins = 3;
    h.queue.enqueue("42", "a", "a");
    await advance(h, 30_000, 100);
    const begins = h.events.filter((e) => e.startsWith("begin"));
    assert.equal(begins.length, 4);
    assert.equal(h.sends.length, 1, "sent once, after the record could be written");
    assert.equal(h.events.indexOf("send 42 a"), h.events.lastIndexOf("begin 42 a") + 1);
    assert.deepEqual(
      h.finished.map((f) => f.outcome.kind),
      ["sent"],
    );
  });

  test("interactive announcements are never merged into a digest", async () => {
    const h = harness({ digestThreshold: 2, solo: (item) => item.startsWith("paused") });
    for (const id of ["a", "paused-1", "b", "c"]) h.queue.enqueue("42", id, id);
    await advance(h, 10_000, 100);
    assert.deepEqual(
      h.sends.map((s) => s.text),
      ["a", "paused-1", "b+c"],
    );
    // One waiting between digestible ones stays out of their digest, and keeps its place after it.
    const g = harness({ digestThreshold: 2, solo: (item) => item.startsWith("paused") });
    for (const id of ["a", "b", "paused-1", "c"]) g.queue.enqueue("42", id, id);
    await advance(g, 10_000, 100);
    assert.deepEqual(
      g.sends.map((s) => s.text),
      ["a", "b+c", "paused-1"],
    );
  });

  test("at most 30 requests a second over all chats, private and group alike", async () => {
    const h = harness({ globalPerSecond: 30 });
    // Every third a group: a group's own per-minute count must not let it past the overall limit.
    for (let i = 0; i < 45; i++) h.queue.enqueue(String(i % 3 ? 1000 + i : -1000 - i), "x", `m${i}`);
    await settle();
    assert.equal(h.sends.length, 30);
    assert.match(
      await h.registry.metrics(),
      /kiln_telegram_announcements_owed\{chat="1044"\} 1\n/,
      "one owed while it waits for the overall limit",
    );
    await advance(h, 1000, 50);
    assert.equal(h.sends.length, 45);
    for (const s of h.sends) {
      const within = h.sends.filter((o) => o.at > s.at - 1000 && o.at <= s.at).length;
      assert.ok(within <= 30, `${within} requests in the second before ${s.at}`);
    }
  });

  test("a chat failing for five minutes is reported unreachable once, then reachable when it takes one", async () => {
    const h = harness();
    for (let i = 0; i < 12; i++)
      h.script.push({ kind: "retry", reason: "ServerError", message: "500 Internal Server Error" });
    h.queue.enqueue("42", "a", "a");
    await advance(h, 4 * 60_000, 500);
    assert.deepEqual(h.reachability, []);
    await advance(h, 8 * 60_000, 500);
    assert.deepEqual(h.reachability, [
      "42 unreachable since +500: ServerError: 500 Internal Server Error",
      "42 reachable",
    ]);
  });

  test("metrics: owed per chat, age of the oldest owed, sends by outcome", async () => {
    const h = harness({ digestThreshold: 100 });
    h.script.push(
      { kind: "retry", reason: "ServerError" },
      { kind: "retry", reason: "NetworkError" },
      { kind: "retry", reason: "TooManyRequests", afterMs: 3000 },
    );
    h.queue.enqueue("42", "a", "a");
    h.queue.enqueue("42", "b", "b");
    await advance(h, 1500, 100);
    const text = await h.registry.metrics();
    assert.match(text, /kiln_telegram_announcements_owed\{chat="42"\} 2/);
    assert.match(text, /kiln_telegram_oldest_owed_seconds\{chat="42"\} 1\.5/);
    await advance(h, 10_000, 100);
    const after = await h.registry.metrics();
    assert.match(after, /kiln_telegram_sends_total\{outcome="server_error"\} 1/);
    assert.match(after, /kiln_telegram_sends_total\{outcome="network_error"\} 1/);
    assert.match(after, /kiln_telegram_sends_total\{outcome="rate_limited"\} 1/);
    assert.match(after, /kiln_telegram_sends_total\{outcome="sent"\} 2/);
    assert.match(after, /kiln_telegram_announcements_owed\{chat="42"\} 0/);
  });

  test("metrics count the announcement in flight, age the oldest, and drop a chat's age once it owes nothing", async () => {
    const h = harness({ digestThreshold: 100 });
    let release = () => {};
    h.gate = new Promise((resolve) => {
      release = resolve;
    });
    h.queue.enqueue("42", "a", "a"); // in flight from the start
    await advance(h, 1000, 100);
    h.queue.enqueue("42", "b", "b");
    await advance(h, 500, 100);
    const text = await h.registry.metrics();
    assert.match(text, /kiln_telegram_announcements_owed\{chat="42"\} 2\n/);
    assert.match(text, /kiln_telegram_oldest_owed_seconds\{chat="42"\} 1\.5\n/);
    h.gate = undefined;
    release();
    await advance(h, 3000, 100);
    const drained = await h.registry.metrics();
    assert.match(drained, /kiln_telegram_announcements_owed\{chat="42"\} 0\n/);
    assert.doesNotMatch(drained, /kiln_telegram_oldest_owed_seconds\{chat="42"\}/);
  });

  test("a private chat is held to one message a second, not to a group's 20 a minute", async () => {
    const h = harness({ digestThreshold: 1000, perChatIntervalMs: 0 });
    for (let i = 0; i < 25; i++) h.queue.enqueue("42", `m${i}`, `m${i}`);
    await advance(h, 2000, 100);
    assert.equal(h.sends.length, 25);
  });

  test("a digest holds at most maxDigest announcements; the rest follow", async () => {
    const h = harness({ digestThreshold: 2, maxDigest: 3 });
    h.script.push({ kind: "retry", reason: "TooManyRequests", afterMs: 2000 });
    h.queue.enqueue("42", "a", "a");
    await settle();
    for (const id of ["b", "c", "d", "e"]) h.queue.enqueue("42", id, id);
    await advance(h, 10_000, 100);
    assert.deepEqual(
      h.sends.map((s) => s.text),
      ["a", "a+b+c", "d+e"],
    );
  });

  test("close stops sending and waits for the requests in flight, whose outcomes are recorded", async () => {
    const h = harness({ digestThreshold: 100 });
    let release = () => {};
    h.gate = new Promise((resolve) => {
      release = resolve;
    });
    h.queue.enqueue("42", "a", "a");
    h.queue.enqueue("42", "b", "b"); // waits for a
    h.queue.enqueue("7", "c", "c");
    await settle();
    let closed = false;
    const closing = h.queue.close().then(() => {
      closed = true;
    });
    await settle();
    assert.equal(closed, false, "two requests are still in flight");
    h.gate = undefined;
    release();
    await closing;
    assert.deepEqual(h.finished.map((f) => f.items.join("+")).sort(), ["a", "c"]);
    assert.equal(h.queue.enqueue("42", "d", "d"), false, "a closed queue takes nothing");
    await advance(h, 5000);
    assert.deepEqual(h.sends.map((s) => s.text).sort(), ["a", "c"], "b waited and was not sent");
  });

  test("a queue with only the hooks it needs and no registry rides out an outage", async () => {
    const h = harness({ bare: true, unreachableAfterMs: 2000 });
    for (let i = 0; i < 4; i++) h.script.push({ kind: "retry", reason: "ServerError" });
    h.queue.enqueue("42", "a", "a");
    await advance(h, 30_000, 250);
    assert.equal(h.sends.length, 5);
    assert.deepEqual(
      h.finished.map((f) => f.outcome.kind),
      ["sent"],
    );
  });

  test("a sender that throws is a network error: retried with backoff, the error as the answer", async () => {
    const h = harness();
    h.script.push(new Error("socket hang up"));
    h.queue.enqueue("42", "a", "a");
    await advance(h, 3000, 100);
    assert.equal(h.sends.length, 2);
    assert.ok(h.sends[1]!.at - h.sends[0]!.at >= 1000);
    assert.deepEqual(
      h.delays.map((d) => [d.delay.answer, d.delay.failures]),
      [["NetworkError: Error: socket hang up", 1]],
    );
    assert.deepEqual(
      h.finished.map((f) => f.outcome.kind),
      ["sent"],
    );
    assert.match(await h.registry.metrics(), /kiln_telegram_sends_total\{outcome="network_error"\} 1\n/);
  });

  test("a 429 shorter than a second is waited out exactly: the per-chat second counts only deliveries", async () => {
    const h = harness();
    h.script.push({ kind: "retry", reason: "TooManyRequests", afterMs: 300 });
    h.queue.enqueue("42", "a", "a");
    await advance(h, 2000, 50);
    assert.equal(h.sends.length, 2);
    const gap = h.sends[1]!.at - h.sends[0]!.at;
    assert.ok(gap >= 300 && gap < 400, `retried after ${gap} ms`);
  });

  test("a single message Telegram refuses is Failed once, never split or sent again", async () => {
    const h = harness();
    h.script.push({ kind: "failed", reason: "BadRequest", message: "Bad Request: can't parse entities" });
    h.queue.enqueue("42", "a", "a");
    await advance(h, 5000);
    assert.equal(h.sends.length, 1);
    assert.deepEqual(
      h.finished.map((f) => [f.items.join("+"), f.outcome.kind]),
      [["a", "failed"]],
    );
  });

  test("a failed intent write backs off by the most failures in the batch, counted from an earlier process", async () => {
    const h = harness({ digestThreshold: 2, failures: { a: 3 } });
    h.script.push({ kind: "retry", reason: "TooManyRequests", afterMs: 5000 });
    h.queue.enqueue("42", "a", "a");
    await settle();
    h.queue.enqueue("42", "b", "b");
    await advance(h, 4900, 100);
    h.failBegins = 1; // the digest a+b cannot be recorded: a has 3 failures, so it waits 2^3 s
    await advance(h, 20_000, 100);
    const gaps = h.begins.slice(1).map((t, i) => t - h.begins[i]!);
    assert.equal(gaps.length, 2, `begins at ${h.begins.map((t) => t - START)}`);
    assert.ok(gaps[1]! >= 8000 && gaps[1]! < 8100, `waited ${gaps[1]} ms after the failed write`);
    assert.deepEqual(
      h.finished.map((f) => [f.items.join("+"), f.outcome.kind]),
      [["a+b", "sent"]],
    );
  });

  test("members of a digest back off by their own counts; the chat tries again at the earliest", async () => {
    const h = harness({ digestThreshold: 2, failures: { a: 3 } });
    h.script.push({ kind: "retry", reason: "TooManyRequests", afterMs: 5000 });
    h.queue.enqueue("42", "a", "a");
    await settle();
    h.queue.enqueue("42", "b", "b");
    h.script.push({ kind: "retry", reason: "ServerError" });
    await advance(h, 20_000, 100);
    const failed = h.sends[1]!.at; // the digest a+b, answered 500
    assert.deepEqual(
      h.delays.slice(1).map((d) => [d.items.join("+"), d.delay.failures, d.delay.retryAt - failed]),
      [
        ["a", 4, 8000],
        ["b", 1, 1000],
      ],
    );
    const gap = h.sends[2]!.at - failed;
    assert.ok(gap >= 1000 && gap < 1100, `tried again after ${gap} ms`);
  });

  test("a storm of 429s is no outage: Telegram answers, it only asks us to wait", async () => {
    const h = harness({ unreachableAfterMs: 60_000 });
    for (let i = 0; i < 5; i++) h.script.push({ kind: "retry", reason: "TooManyRequests", afterMs: 30_000 });
    h.queue.enqueue("42", "a", "a");
    await advance(h, 200_000, 1000);
    assert.deepEqual(h.reachability, []);
    assert.deepEqual(
      h.finished.map((f) => f.outcome.kind),
      ["sent"],
    );
  });

  test("unreachable exactly unreachableAfterMs after the first failure; a delivery before is no recovery", async () => {
    const h = harness({ digestThreshold: 100, unreachableAfterMs: 3000 });
    h.queue.enqueue("42", "a", "a"); // delivered
    await advance(h, 2000, 100);
    for (let i = 0; i < 3; i++) h.script.push({ kind: "retry", reason: "ServerError", message: "502" });
    h.queue.enqueue("42", "b", "b");
    await advance(h, 3200, 100); // failures at +0, +1 s and +3 s: the third is 3 s after the first
    const first = h.delays[0]!.delay.retryAt - 1000; // when the first failure was answered
    assert.equal(h.sends.length, 4);
    assert.deepEqual(h.reachability, [`42 unreachable since +${first - START}: ServerError: 502`]);
    // A 429 is an answer, but not a delivery: the chat is reachable again only when one goes through.
    h.script.push({ kind: "retry", reason: "TooManyRequests", afterMs: 500 });
    await advance(h, 5000, 100);
    assert.equal(h.sends.length, 6);
    assert.deepEqual(h.reachability.slice(1), ["42 reachable"]);
  });

  test("a second outage is reported again, from its own start; a 429 inside an outage does not restart it", async () => {
    const h = harness({ digestThreshold: 100, unreachableAfterMs: 3000 });
    for (let i = 0; i < 3; i++) h.script.push({ kind: "retry", reason: "ServerError" });
    h.queue.enqueue("42", "a", "a");
    await advance(h, 10_000, 100);
    assert.equal(h.reachability.length, 2, h.reachability.join("; "));
    h.script.push(
      { kind: "retry", reason: "ServerError" },
      { kind: "retry", reason: "TooManyRequests", afterMs: 500 },
      { kind: "retry", reason: "ServerError" },
      { kind: "retry", reason: "ServerError" },
    );
    h.queue.enqueue("42", "b", "b");
    await advance(h, 30_000, 100);
    const second = h.delays.find((d) => d.items[0] === "b")!.delay.retryAt - 1000;
    assert.deepEqual(h.reachability.slice(2), [
      `42 unreachable since +${second - START}: ServerError`,
      "42 reachable",
    ]);
  });
});
