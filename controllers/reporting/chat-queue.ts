// One send queue per Telegram chat, within Telegram's limits: about one message a second per chat,
// 20 a minute per group, 30 a second in all. When announcements pile up (a burst of builds, or a
// 429 telling us to wait), the waiting ones go out as one digest instead of falling behind.
// Sending never blocks a reconcile: enqueue returns at once, outcomes come back through hooks.
// What to do after each answer is retry-policy.ts: nothing owed is given up while it is still news.
import { Counter, Gauge, type Registry } from "prom-client";
import type { Logger } from "../../lib/log.ts";
import type { Clock, Timer } from "../../lib/runtime/clock.ts";
import type { ChatMessage } from "./format.ts";
import {
  afterAnswer,
  backoffMs,
  DEFAULT_RETRY_POLICY,
  describeAnswer,
  type RetryPolicy,
} from "./retry-policy.ts";
import type { ChatSender, SendOutcome } from "./telegram.ts";

/** How an announcement ended: Telegram's answer, or stale (still undelivered when it stopped being news). */
export type Settled =
  | Exclude<SendOutcome, { kind: "retry" }>
  | { kind: "stale"; reason: "Stale"; message: string };

export interface Delay {
  /** Telegram's last answer (or the network error), for people to read. */
  answer: string;
  /** Transient failures so far (429s not counted). */
  failures: number;
  retryAt: number;
}

export interface QueueHooks<T> {
  render(items: readonly T[]): ChatMessage;
  /**
   * Makes a durable record that these items may be in flight and returns those still owed (another
   * path may have settled some meanwhile); a throw postpones the send (with backoff), nothing is dropped.
   */
  begin(chat: string, items: readonly T[]): Promise<readonly T[]>;
  /** Records how it ended: sent, blocked (the chat refuses us), failed (refused for good) or stale. */
  finish(chat: string, items: readonly T[], outcome: Settled): Promise<void>;
  /** Records that these items wait after a transient failure (where `kubectl describe build` shows it). */
  delayed(chat: string, items: readonly T[], delay: Delay): Promise<void>;
  /** The chat answered only transient failures for longer than unreachableAfterMs (or is reachable again). */
  reachability?(chat: string, unreachable: { sinceMs: number; answer: string } | undefined): void;
  /** When the announcement stops being news (ms since the epoch). */
  staleAt(item: T): number;
  /** Transient failures recorded before (a previous process's), so backoff resumes where it was. */
  failures?(item: T): number;
  /** Whether the announcement may go out inside a digest (interactive messages may not). */
  digestible?(item: T): boolean;
}

export interface ChatQueueOptions<T> {
  sender: ChatSender;
  hooks: QueueHooks<T>;
  clock: Clock;
  log: Logger;
  perChatIntervalMs?: number;
  groupPerMinute?: number;
  globalPerSecond?: number;
  /** Waiting announcements at or above this count are merged into one digest. */
  digestThreshold?: number;
  maxDigest?: number;
  retry?: Partial<RetryPolicy>;
  /** A chat failing this long with nothing delivered is reported unreachable. */
  unreachableAfterMs?: number;
  /** Where the queue's metrics go (owed per chat, age of the oldest, sends by outcome). */
  registry?: Registry;
}

interface Entry<T> {
  id: string;
  item: T;
  failures: number;
  /** Never merged into a digest (it was in one Telegram refused, or it is interactive). */
  solo: boolean;
  /** When it was first queued here (the age metric). */
  since: number;
}

interface ChatState<T> {
  waiting: Entry<T>[];
  inFlight: Entry<T>[];
  busy: boolean;
  timer?: Timer;
  nextAt: number;
  history: number[];
  /** First transient failure since the last delivery; undefined while the chat answers. */
  failingSince?: number;
  reportedUnreachable: boolean;
  lastAnswer?: string;
}

export const isGroupChat = (chat: string) => chat.startsWith("-");

/** sends_total outcome label of an answer. */
function outcomeLabel(outcome: SendOutcome): string {
  if (outcome.kind === "retry")
    return outcome.reason === "TooManyRequests"
      ? "rate_limited"
      : outcome.reason === "ServerError"
        ? "server_error"
        : "network_error";
  return outcome.kind;
}

export class ChatQueue<T> {
  #o: Required<Omit<ChatQueueOptions<T>, "registry" | "retry">> & { retry: RetryPolicy };
  #chats = new Map<string, ChatState<T>>();
  #global: number[] = [];
  #running = new Set<Promise<void>>();
  #closed = false;
  #sends?: Counter<"outcome">;

  constructor(options: ChatQueueOptions<T>) {
    this.#o = {
      perChatIntervalMs: 1000,
      groupPerMinute: 20,
      globalPerSecond: 30,
      digestThreshold: 3,
      maxDigest: 50,
      unreachableAfterMs: 5 * 60_000,
      ...options,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    };
    if (options.registry) this.#metrics(options.registry);
  }

  #metrics(registry: Registry): void {
    const queue = this;
    this.#sends = new Counter({
      name: "kiln_telegram_sends_total",
      help: "Telegram sendMessage calls by outcome (sent, rate_limited, server_error, network_error, blocked, failed)",
      labelNames: ["outcome"],
      registers: [registry],
    });
    new Gauge({
      name: "kiln_telegram_announcements_owed",
      help: "Announcements owed to a Telegram chat and not yet delivered",
      labelNames: ["chat"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [chat, state] of queue.#chats)
          this.set({ chat }, state.waiting.length + state.inFlight.length);
      },
    });
    new Gauge({
      name: "kiln_telegram_oldest_owed_seconds",
      help: "Age of the oldest announcement owed to a Telegram chat",
      labelNames: ["chat"],
      registers: [registry],
      collect() {
        this.reset();
        const now = queue.#o.clock.now();
        for (const [chat, state] of queue.#chats) {
          const entries = [...state.waiting, ...state.inFlight];
          if (entries.length === 0) continue;
          this.set({ chat }, (now - Math.min(...entries.map((e) => e.since))) / 1000);
        }
      },
    });
  }

  /** Adds an announcement unless one with this id is already waiting or in flight. */
  enqueue(chat: string, id: string, item: T): boolean {
    if (this.#closed || this.has(chat, id)) return false;
    const state = this.#state(chat);
    const solo = this.#o.hooks.digestible ? !this.#o.hooks.digestible(item) : false;
    const failures = this.#o.hooks.failures?.(item) ?? 0;
    state.waiting.push({ id, item, failures, solo, since: this.#o.clock.now() });
    this.#pump(chat);
    return true;
  }

  has(chat: string, id: string): boolean {
    const state = this.#chats.get(chat);
    return !!state && [...state.waiting, ...state.inFlight].some((entry) => entry.id === id);
  }

  waiting(chat: string): number {
    return this.#chats.get(chat)?.waiting.length ?? 0;
  }

  /** Stops sending; waits for requests already in flight so their outcome gets recorded. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const state of this.#chats.values()) state.timer?.cancel();
    await Promise.allSettled([...this.#running]);
  }

  #state(chat: string): ChatState<T> {
    let state = this.#chats.get(chat);
    if (!state) {
      state = { waiting: [], inFlight: [], busy: false, nextAt: 0, history: [], reportedUnreachable: false };
      this.#chats.set(chat, state);
    }
    return state;
  }

  #readyAt(chat: string, state: ChatState<T>, now: number): number {
    let at = state.nextAt;
    state.history = state.history.filter((t) => now - t < 60_000);
    if (isGroupChat(chat) && state.history.length >= this.#o.groupPerMinute) {
      at = Math.max(at, state.history[state.history.length - this.#o.groupPerMinute]! + 60_000);
    }
    this.#global = this.#global.filter((t) => now - t < 1000);
    if (this.#global.length >= this.#o.globalPerSecond) {
      at = Math.max(at, this.#global[this.#global.length - this.#o.globalPerSecond]! + 1000);
    }
    return at;
  }

  #pump(chat: string): void {
    const state = this.#state(chat);
    if (this.#closed || state.busy || state.timer || state.waiting.length === 0) return;
    const now = this.#o.clock.now();
    const at = this.#readyAt(chat, state, now);
    if (at > now) {
      state.timer = this.#o.clock.after(at - now, () => {
        state.timer = undefined;
        this.#pump(chat);
      });
      return;
    }
    state.busy = true;
    state.inFlight = this.#nextBatch(state);
    // Counted before the request: a send that is answered late still took its place in the limits.
    this.#global.push(now);
    const run = this.#send(chat, state).finally(() => {
      this.#running.delete(run);
      state.busy = false;
      state.inFlight = [];
      this.#pump(chat);
    });
    this.#running.add(run);
  }

  /** The first waiting entry alone, or (when enough of them wait) every digestible one up to maxDigest. */
  #nextBatch(state: ChatState<T>): Entry<T>[] {
    const digestible = state.waiting.filter((e) => !e.solo);
    if (digestible.length < this.#o.digestThreshold || state.waiting[0]!.solo) {
      return state.waiting.splice(0, 1);
    }
    const batch = digestible.slice(0, this.#o.maxDigest);
    state.waiting = state.waiting.filter((e) => !batch.includes(e));
    return batch;
  }

  async #send(chat: string, state: ChatState<T>): Promise<void> {
    let batch = state.inFlight;
    const log = this.#o.log.child({ chat, announcements: batch.length });
    const now = () => this.#o.clock.now();
    try {
      const owed = new Set(
        await this.#o.hooks.begin(
          chat,
          batch.map((entry) => entry.item),
        ),
      );
      batch = batch.filter((entry) => owed.has(entry.item));
    } catch (err) {
      // Nothing was sent: the batch waits, backing off like a transient failure (the API server is away).
      const failures = Math.max(...batch.map((e) => e.failures)) + 1;
      log.warn({ err: String(err), failures }, "could not record the send intent; will try again");
      this.#wait(state, batch, now() + backoffMs(failures, this.#o.retry));
      return;
    }
    if (batch.length === 0) return;
    const items = batch.map((entry) => entry.item);
    let outcome: SendOutcome;
    try {
      outcome = await this.#o.sender.send(chat, this.#o.hooks.render(items));
    } catch (err) {
      log.warn({ err }, "sending failed unexpectedly");
      outcome = { kind: "retry", reason: "NetworkError", message: String(err) };
    }
    this.#sends?.inc({ outcome: outcomeLabel(outcome) });
    const at = now();
    state.lastAnswer = describeAnswer(outcome);
    if (outcome.kind === "sent") {
      state.history.push(at);
      state.nextAt = at + this.#o.perChatIntervalMs;
    }
    this.#noteReachability(chat, state, outcome, at);
    const digest = batch.length > 1;
    const settled: { entries: Entry<T>[]; outcome: Settled }[] = [];
    const delayed: { entries: Entry<T>[]; delay: Delay }[] = [];
    let split = false;
    for (const entry of batch) {
      const next = afterAnswer(
        outcome,
        { failures: entry.failures, staleAt: this.#o.hooks.staleAt(entry.item) },
        digest,
        at,
        this.#o.retry,
      );
      if (next.kind === "settle") settled.push({ entries: [entry], outcome: next.outcome });
      else if (next.kind === "stale")
        settled.push({
          entries: [entry],
          outcome: {
            kind: "stale",
            reason: "Stale",
            message: `still undelivered when it went stale: ${next.answer}`,
          },
        });
      else if (next.kind === "split") {
        split = true;
        entry.solo = true;
      } else {
        entry.failures = next.failures;
        delayed.push({
          entries: [entry],
          delay: { answer: next.answer, failures: next.failures, retryAt: next.at },
        });
      }
    }
    if (split) {
      log.warn(
        { reason: outcome.kind === "failed" ? outcome.reason : "" },
        "Telegram refused a digest; sending its builds one by one",
      );
      state.waiting.unshift(...batch.filter((e) => e.solo));
    }
    if (delayed.length > 0) {
      // Telegram waits per chat: the chat's next request goes at the earliest retry.
      const retryAt = Math.min(...delayed.map((d) => d.delay.retryAt));
      this.#wait(
        state,
        delayed.flatMap((d) => d.entries),
        retryAt,
      );
      log.info(
        { answer: state.lastAnswer, retryAt: new Date(retryAt).toISOString() },
        "Telegram did not take the message; will retry",
      );
      for (const d of delayed) {
        await this.#o.hooks
          .delayed(
            chat,
            d.entries.map((e) => e.item),
            d.delay,
          )
          .catch((err) => log.warn({ err: String(err) }, "could not record the delay"));
      }
    }
    if (outcome.kind === "blocked") {
      // The chat refuses us: everything waiting for it ends the same way.
      settled.push({ entries: state.waiting.splice(0), outcome });
      log.warn({ reason: outcome.reason }, "Telegram chat refuses messages; not sending to it");
    }
    // One record per outcome: a digest sent is one message for all its members.
    const grouped = new Map<Settled, Entry<T>[]>();
    for (const { entries, outcome: how } of settled)
      grouped.set(how, [...(grouped.get(how) ?? []), ...entries]);
    for (const [how, entries] of grouped) {
      if (entries.length === 0) continue;
      if (how.kind === "failed" || how.kind === "stale")
        log.error(
          { reason: how.reason, description: how.message },
          "Telegram message could not be delivered",
        );
      try {
        await this.#o.hooks.finish(
          chat,
          entries.map((e) => e.item),
          how,
        );
      } catch (err) {
        log.error({ err: String(err) }, "could not record the outcome of a Telegram message");
      }
    }
  }

  /** Puts entries back at the front; the chat's next request goes no earlier than `at`. */
  #wait(state: ChatState<T>, entries: Entry<T>[], at: number): void {
    state.waiting.unshift(...entries);
    state.nextAt = Math.max(state.nextAt, at);
  }

  #noteReachability(chat: string, state: ChatState<T>, outcome: SendOutcome, now: number): void {
    const transient = outcome.kind === "retry" && outcome.reason !== "TooManyRequests";
    if (!transient) {
      if (outcome.kind === "sent" && state.reportedUnreachable) this.#o.hooks.reachability?.(chat, undefined);
      if (outcome.kind === "sent") {
        state.failingSince = undefined;
        state.reportedUnreachable = false;
      }
      return;
    }
    state.failingSince ??= now;
    if (!state.reportedUnreachable && now - state.failingSince >= this.#o.unreachableAfterMs) {
      state.reportedUnreachable = true;
      this.#o.hooks.reachability?.(chat, { sinceMs: state.failingSince, answer: state.lastAnswer ?? "" });
    }
  }
}
