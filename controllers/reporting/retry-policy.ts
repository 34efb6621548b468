// Pure: what the chat queue does after Telegram answers. The rule of the chat: a message owed is never
// given up while it is still news. A 429 is Telegram asking us to wait: we wait exactly as long as it
// says and count nothing. 5xx and network failures back off exponentially, capped, per announcement, and
// are tried again until the news is stale. Only what Telegram answers as permanent settles a message as
// Failed (or the chat as blocked); a digest Telegram refuses is split, never failing its members.
import type { SendOutcome } from "./telegram.ts";

export interface RetryPolicy {
  /** First wait after a transient failure; doubles with each failure in a row. */
  baseMs: number;
  /** The longest wait between attempts. */
  maxMs: number;
  /** A 429 without retry_after (Telegram always sends one): wait this long. */
  defaultRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 1000, maxMs: 60_000, defaultRetryAfterMs: 1000 };

/** The wait after the n-th transient failure in a row (n ≥ 1): base·2^(n-1), capped. */
export function backoffMs(failures: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  const n = Math.max(1, failures);
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(n - 1, 30));
}

export interface Attempted {
  /** Transient failures of this announcement so far (429s not counted). */
  failures: number;
  /** When the announcement stops being news (ms since the epoch). */
  staleAt: number;
}

export type Next =
  /** Done: record this outcome. */
  | { kind: "settle"; outcome: Exclude<SendOutcome, { kind: "retry" }> }
  /** Try again at `at`; `failures` is the new count; `answer` says what Telegram (or the network) said. */
  | { kind: "retry"; at: number; failures: number; answer: string; reason: string }
  /** A digest Telegram refused as a message: send its members one by one. */
  | { kind: "split" }
  /** Still failing when the news went stale: record it as skipped, not failed. */
  | { kind: "stale"; answer: string };

export function describeAnswer(outcome: SendOutcome): string {
  switch (outcome.kind) {
    case "sent":
      return "sent";
    case "retry":
      return outcome.reason === "TooManyRequests"
        ? `429 Too Many Requests: retry after ${Math.round((outcome.afterMs ?? 0) / 1000)}s`
        : `${outcome.reason}${outcome.message ? `: ${outcome.message}` : ""}`;
    default:
      return `${outcome.reason}: ${outcome.message}`;
  }
}

/**
 * What to do with an announcement (or a digest of several) after `outcome`. `entries` are the members;
 * each keeps its own failure count, so a retry of one never inherits another's history.
 */
export function afterAnswer(
  outcome: SendOutcome,
  entry: Attempted,
  digest: boolean,
  now: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Next {
  if (outcome.kind === "sent" || outcome.kind === "blocked") return { kind: "settle", outcome };
  if (outcome.kind === "failed") {
    // Telegram refused this text; its members alone may well go through (a 401 would fail them too).
    if (digest && outcome.reason !== "Unauthorized") return { kind: "split" };
    return { kind: "settle", outcome };
  }
  const answer = describeAnswer(outcome);
  const throttled = outcome.reason === "TooManyRequests";
  const failures = throttled ? entry.failures : entry.failures + 1;
  const wait = throttled ? (outcome.afterMs ?? policy.defaultRetryAfterMs) : backoffMs(failures, policy);
  if (now >= entry.staleAt) return { kind: "stale", answer };
  // One last try when the news goes stale, if the wait would run past it.
  return { kind: "retry", at: Math.min(now + wait, entry.staleAt), failures, answer, reason: outcome.reason };
}
