// A small map of answers that expire, for token and access reviews (the store's, the build page's): one load per key at a
// time (concurrent requests with one token wait for the same review), failures not remembered, the
// oldest entries dropped past `max`.
export class TtlCache<V> {
  readonly #max: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #loading = new Map<string, Promise<V>>();

  constructor(max: number, now: () => number = Date.now) {
    this.#max = max;
    this.#now = now;
  }

  get(key: string, load: () => Promise<{ value: V; ttlMs: number }>): Promise<V> {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt > this.#now()) return Promise.resolve(entry.value);
    if (entry) this.#entries.delete(key);
    const pending = this.#loading.get(key);
    if (pending) return pending;
    const loading = load()
      .then(({ value, ttlMs }) => {
        if (ttlMs > 0) {
          this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs });
          if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
        }
        return value;
      })
      .finally(() => this.#loading.delete(key));
    this.#loading.set(key, loading);
    return loading;
  }
}
