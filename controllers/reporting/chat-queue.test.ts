import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { silentLogger } from "../../lib/log.ts";
import { FakeClock } from "../runtime/clock.ts";
import { ChatQueue } from "./chat-queue.ts";
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
  finished: { chat: string; items: readonly string[]; outcome: SendOutcome }[];
  script: SendOutcome[];
  settledElsewhere: Set<string>;
}

function harness(
  options: { digestThreshold?: number; perChatIntervalMs?: number; maxAttempts?: number } = {},
): Harness {
  const clock = new FakeClock(1_000_000);
  const h: Harness = {
    clock,
    sends: [],
    events: [],
    finished: [],
    script: [],
    settledElsewhere: new Set(),
    queue: undefined as never,
  };
  let id = 1;
  h.queue = new ChatQueue<string>({
    clock,
    log: silentLogger(),
    ...options,
    sender: {
      send: async (chat, message: ChatMessage) => {
        h.sends.push({ at: clock.now(), chat, text: message.text });
        h.events.push(`send ${chat} ${message.text}`);
        return h.script.shift() ?? { kind: "sent", messageID: id++ };
      },
    },
    hooks: {
      render: (items) => ({ html: items.join("+"), text: items.join("+") }),
      begin: async (chat, items) => {
        h.events.push(`begin ${chat} ${items.join("+")}`);
        return items.filter((item) => !h.settledElsewhere.has(item));
      },
      finish: async (chat, items, outcome) => {
        h.events.push(`finish ${chat} ${items.join("+")} ${outcome.kind}`);
        h.finished.push({ chat, items, outcome });
      },
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
    h.queue.enqueue("42", "a", "a");
    h.queue.enqueue("42", "b", "b");
    h.queue.enqueue("7", "c", "c");
    assert.equal(h.queue.enqueue("42", "a", "a"), false, "an id already queued is not queued twice");
    await settle();
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

  test("transient errors back off and are given up after maxAttempts", async () => {
    const h = harness({ maxAttempts: 3 });
    for (let i = 0; i < 3; i++) h.script.push({ kind: "retry", reason: "ServerError" });
    h.queue.enqueue("42", "a", "a");
    await advance(h, 20_000, 500);
    assert.equal(h.sends.length, 3);
    assert.ok(h.sends[2]!.at - h.sends[1]!.at >= 2000, "exponential backoff");
    assert.deepEqual(h.finished[0]!.outcome, {
      kind: "failed",
      reason: "ServerError",
      message: "gave up after 3 attempts",
    });
  });
});
