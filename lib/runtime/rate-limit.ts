// Retry pacing as client-go's default controller rate limiter: the larger of a per-key exponential
// backoff (forgotten on success) and an overall token bucket, so a storm of failures cannot hammer
// the API server.
export interface RateLimitOptions {
  /** First retry delay of a key; doubles per failure. */
  baseDelayMs?: number;
  /** Cap of a key's retry delay. */
  maxDelayMs?: number;
  /** Overall retries per second once the burst is spent. */
  qps?: number;
  burst?: number;
}

export class ExponentialBackoff {
  readonly #failures = new Map<string, number>();
  readonly #base: number;
  readonly #max: number;

  constructor(baseDelayMs: number, maxDelayMs: number) {
    this.#base = baseDelayMs;
    this.#max = maxDelayMs;
  }

  /** Records one more failure of key and returns how long to wait before retrying it. */
  next(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    return Math.min(this.#max, this.#base * 2 ** failures);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }
}

export class TokenBucket {
  #tokens: number;
  #last: number;
  readonly #qps: number;
  readonly #burst: number;

  constructor(qps: number, burst: number, now: number) {
    this.#qps = qps;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes a token and returns how long the caller must wait for it (0 when one is available). */
  reserve(now: number): number {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#qps) / 1000);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.#qps;
  }
}
