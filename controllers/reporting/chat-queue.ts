// One send queue per Telegram chat, within Telegram's limits: about one message a second per chat,
// 20 a minute per group, 30 a second in all. When announcements pile up (a burst of builds, or a
// 429 telling us to wait), the waiting ones go out as one digest instead of falling behind.
// Sending never blocks a reconcile: enqueue returns at once, outcomes come back through hooks.
import type { Logger } from "../../lib/log.ts";
import type { Clock, Timer } from "../runtime/clock.ts";
import type { ChatMessage } from "./format.ts";
import type { ChatSender, SendOutcome } from "./telegram.ts";

export interface QueueHooks<T> {
  render(items: readonly T[]): ChatMessage;
  /**
   * Makes a durable record that these items may be in flight and returns those still owed (another
   * path may have settled some meanwhile); a throw postpones the send.
   */
  begin(chat: string, items: readonly T[]): Promise<readonly T[]>;
  /** Records how it ended: sent, blocked (the chat refuses us) or failed. */
  finish(chat: string, items: readonly T[], outcome: SendOutcome): Promise<void>;
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
  /** Attempts before a transient failure (5xx, network, repeated 429) is given up. */
  maxAttempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
}

interface Entry<T> {
  id: string;
  item: T;
  attempts: number;
}

interface ChatState<T> {
  waiting: Entry<T>[];
  inFlight: Entry<T>[];
  busy: boolean;
  timer?: Timer;
  nextAt: number;
  history: number[];
}

export const isGroupChat = (chat: string) => chat.startsWith("-");

export class ChatQueue<T> {
  #o: Required<ChatQueueOptions<T>>;
  #chats = new Map<string, ChatState<T>>();
  #global: number[] = [];
  #running = new Set<Promise<void>>();
  #closed = false;

  constructor(options: ChatQueueOptions<T>) {
    this.#o = {
      perChatIntervalMs: 1000,
      groupPerMinute: 20,
      globalPerSecond: 30,
      digestThreshold: 3,
      maxDigest: 50,
      maxAttempts: 8,
      backoffMs: 1000,
      maxBackoffMs: 60_000,
      ...options,
    };
  }

  /** Adds an announcement unless one with this id is already waiting or in flight. */
  enqueue(chat: string, id: string, item: T): boolean {
    if (this.#closed || this.has(chat, id)) return false;
    const state = this.#state(chat);
    state.waiting.push({ id, item, attempts: 0 });
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
      state = { waiting: [], inFlight: [], busy: false, nextAt: 0, history: [] };
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
    const count = state.waiting.length >= this.#o.digestThreshold ? this.#o.maxDigest : 1;
    state.inFlight = state.waiting.splice(0, count);
    const run = this.#send(chat, state).finally(() => {
      this.#running.delete(run);
      state.busy = false;
      state.inFlight = [];
      this.#pump(chat);
    });
    this.#running.add(run);
  }

  async #send(chat: string, state: ChatState<T>): Promise<void> {
    let batch = state.inFlight;
    const log = this.#o.log.child({ chat, announcements: batch.length });
    try {
      const owed = new Set(
        await this.#o.hooks.begin(
          chat,
          batch.map((entry) => entry.item),
        ),
      );
      batch = batch.filter((entry) => owed.has(entry.item));
    } catch (err) {
      log.warn({ err }, "could not record the send intent; will try again");
      this.#retry(state, batch, undefined);
      return;
    }
    if (batch.length === 0) return;
    const items = batch.map((entry) => entry.item);
    let outcome: SendOutcome;
    try {
      outcome = await this.#o.sender.send(chat, this.#o.hooks.render(items));
    } catch (err) {
      log.warn({ err }, "sending failed unexpectedly");
      outcome = { kind: "retry", reason: "NetworkError" };
    }
    const now = this.#o.clock.now();
    if (outcome.kind === "sent") {
      state.history.push(now);
      this.#global.push(now);
      state.nextAt = now + this.#o.perChatIntervalMs;
    }
    if (outcome.kind === "retry") {
      const attempts = Math.max(...batch.map((entry) => ++entry.attempts));
      if (attempts < this.#o.maxAttempts) {
        log.info(
          { reason: outcome.reason, afterMs: outcome.afterMs },
          "Telegram asked us to wait; will retry",
        );
        this.#retry(state, batch, outcome.afterMs);
        return;
      }
      outcome = { kind: "failed", reason: outcome.reason, message: `gave up after ${attempts} attempts` };
    }
    let settled = batch;
    if (outcome.kind === "blocked") {
      // The chat refuses us: everything waiting for it ends the same way.
      settled = [...batch, ...state.waiting.splice(0)];
      log.warn({ reason: outcome.reason }, "Telegram chat refuses messages; not sending to it");
    } else if (outcome.kind === "failed") {
      log.error(
        { reason: outcome.reason, description: outcome.message },
        "Telegram message could not be sent",
      );
    }
    try {
      await this.#o.hooks.finish(
        chat,
        settled.map((entry) => entry.item),
        outcome,
      );
    } catch (err) {
      log.error({ err }, "could not record the outcome of a Telegram message");
    }
  }

  #retry(state: ChatState<T>, batch: Entry<T>[], afterMs: number | undefined): void {
    const attempts = Math.max(1, ...batch.map((entry) => entry.attempts));
    const backoff = Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** (attempts - 1));
    state.waiting.unshift(...batch);
    state.nextAt = this.#o.clock.now() + (afterMs ?? backoff);
  }
}
