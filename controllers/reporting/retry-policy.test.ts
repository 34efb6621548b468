import assert from "node:assert/strict";
import { test } from "node:test";
import { afterAnswer, backoffMs, describeAnswer } from "./retry-policy.ts";
import type { SendOutcome } from "./telegram.ts";

test("backoff doubles from a second and stays at a minute", () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => backoffMs(n)),
    [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000],
  );
});

test("what happens after each answer", () => {
  const now = 1_000_000;
  const fresh = { failures: 0, staleAt: now + 86_400_000 };
  const rows: [string, SendOutcome, boolean, typeof fresh, unknown][] = [
    ["sent", { kind: "sent", messageID: 1 }, false, fresh, { kind: "settle" }],
    [
      "429 waits exactly, counts nothing",
      { kind: "retry", reason: "TooManyRequests", afterMs: 30_000 },
      false,
      { ...fresh, failures: 3 },
      { kind: "retry", at: now + 30_000, failures: 3 },
    ],
    [
      "500 backs off by its own count",
      { kind: "retry", reason: "ServerError", message: "500" },
      false,
      { ...fresh, failures: 2 },
      { kind: "retry", at: now + 4000, failures: 3 },
    ],
    [
      "network error the same",
      { kind: "retry", reason: "NetworkError" },
      true,
      fresh,
      { kind: "retry", at: now + 1000, failures: 1 },
    ],
    [
      "a wait past the news: one last try at it",
      { kind: "retry", reason: "ServerError" },
      false,
      { failures: 9, staleAt: now + 5000 },
      { kind: "retry", at: now + 5000, failures: 10 },
    ],
    [
      "stale: skipped",
      { kind: "retry", reason: "ServerError" },
      false,
      { failures: 9, staleAt: now },
      { kind: "stale" },
    ],
    [
      "a refused digest is split",
      { kind: "failed", reason: "BadRequest", message: "too long" },
      true,
      fresh,
      { kind: "split" },
    ],
    [
      "a refused message is settled",
      { kind: "failed", reason: "BadRequest", message: "x" },
      false,
      fresh,
      { kind: "settle" },
    ],
    [
      "a bad token fails a digest too",
      { kind: "failed", reason: "Unauthorized", message: "x" },
      true,
      fresh,
      { kind: "settle" },
    ],
    ["blocked", { kind: "blocked", reason: "Forbidden", message: "x" }, true, fresh, { kind: "settle" }],
  ];
  for (const [what, outcome, digest, entry, expected] of rows) {
    const next = afterAnswer(outcome, entry, digest, now);
    const picked = Object.fromEntries(
      Object.keys(expected as object).map((k) => [k, (next as Record<string, unknown>)[k]]),
    );
    assert.deepEqual(picked, expected, what);
  }
});

test("what Telegram's answer is called where people read it (a chat record's lastAnswer, an Event)", () => {
  const rows: [SendOutcome, string][] = [
    [{ kind: "sent", messageID: 7 }, "sent"],
    [{ kind: "retry", reason: "TooManyRequests", afterMs: 30_000 }, "429 Too Many Requests: retry after 30s"],
    [{ kind: "retry", reason: "TooManyRequests", afterMs: 1499 }, "429 Too Many Requests: retry after 1s"],
    [{ kind: "retry", reason: "TooManyRequests" }, "429 Too Many Requests: retry after 0s"],
    [{ kind: "retry", reason: "ServerError", message: "502 Bad Gateway" }, "ServerError: 502 Bad Gateway"],
    [{ kind: "retry", reason: "NetworkError" }, "NetworkError"],
    [
      { kind: "failed", reason: "BadRequest", message: "message is too long" },
      "BadRequest: message is too long",
    ],
    [
      { kind: "blocked", reason: "Forbidden", message: "bot was blocked by the user" },
      "Forbidden: bot was blocked by the user",
    ],
  ];
  for (const [outcome, expected] of rows) assert.equal(describeAnswer(outcome), expected);
});

test("a custom policy: its base and cap, not the default's", () => {
  const policy = { baseMs: 250, maxMs: 1000, defaultRetryAfterMs: 5000 };
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((n) => backoffMs(n, policy)),
    [250, 250, 500, 1000, 1000],
  );
  const now = 0;
  const entry = { failures: 0, staleAt: 60_000 };
  assert.deepEqual(afterAnswer({ kind: "retry", reason: "TooManyRequests" }, entry, false, now, policy), {
    kind: "retry",
    at: 5000,
    failures: 0,
    answer: "429 Too Many Requests: retry after 0s",
    reason: "TooManyRequests",
  });
  assert.equal(backoffMs(1_000_000, { ...policy, maxMs: Number.POSITIVE_INFINITY }), 250 * 2 ** 30);
});
