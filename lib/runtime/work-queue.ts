// A deduplicating work queue of string keys, after client-go's workqueue: a key waiting in the queue is
// stored once however often it is added; a key being processed is never handed to a second worker — if it
// is added meanwhile it is queued again once the first worker calls done().
import { type Clock, systemClock, type Timer } from "./clock.ts";
import { ExponentialBackoff, type RateLimitOptions, TokenBucket } from "./rate-limit.ts";

export interface WorkQueueOptions extends RateLimitOptions {
  clock?: Clock;
}

export class WorkQueue {
  readonly #clock: Clock;
  readonly #backoff: ExponentialBackoff;
  readonly #bucket: TokenBucket;
  // FIFO with a moving head, so shifting stays O(1) with thousands of keys.
  #items: string[] = [];
  #head = 0;
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #waiting = new Map<string, { at: number; timer: Timer }>();
  #getters: Array<(key: string | undefined) => void> = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#backoff = new ExponentialBackoff(options.baseDelayMs ?? 5, options.maxDelayMs ?? 300_000);
    this.#bucket = new TokenBucket(options.qps ?? 10, options.burst ?? 100, this.#clock.now());
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  /** Adds key after ms; of several pending delays for one key the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + ms;
    const pending = this.#waiting.get(key);
    if (pending && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.#clock.after(ms, () => {
      this.#waiting.delete(key);
      this.add(key);
    });
    this.#waiting.set(key, { at, timer });
  }

  /** Adds key after its backoff: exponential per key, and paced by the overall retry rate. */
  addRateLimited(key: string): void {
    const delay = Math.max(this.#backoff.next(key), this.#bucket.reserve(this.#clock.now()));
    this.addAfter(key, delay);
  }

  /** Clears key's failure count (call on success). */
  forget(key: string): void {
    this.#backoff.forget(key);
  }

  retries(key: string): number {
    return this.#backoff.failures(key);
  }

  /** The next key to process, or undefined once the queue is shut down. Pair every key with done(). */
  get(): Promise<string | undefined> {
    const key = this.#shift();
    if (key !== undefined) return Promise.resolve(key);
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) this.#push(key);
  }

  /** Keys waiting to be processed (not those in flight or delayed). */
  get length(): number {
    return this.#items.length - this.#head;
  }

  get delayed(): number {
    return this.#waiting.size;
  }

  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#waiting.values()) timer.cancel();
    this.#waiting.clear();
    const getters = this.#getters;
    this.#getters = [];
    for (const resolve of getters) resolve(undefined);
  }

  get isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  #push(key: string): void {
    const getter = this.#getters.shift();
    if (getter) {
      this.#take(key);
      getter(key);
      return;
    }
    this.#items.push(key);
  }

  #shift(): string | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const key = this.#items[this.#head++]!;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#take(key);
    return key;
  }

  #take(key: string): void {
    this.#dirty.delete(key);
    this.#processing.add(key);
  }
}
