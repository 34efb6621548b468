// A supervised informer: list, then watch from the list's resourceVersion, keeping a local cache with
// indexes. Unlike client-node's ListWatch (which gives up on any error but 410 and cannot be restarted
// safely while its old request is still closing), every failure here — an HTTP error, a connection
// reset, a 410, a watch that silently stops delivering — leads to a fresh watch or relist after a capped,
// jittered backoff. Handlers receive events only to compute keys; readers use the cache.
import { isGone } from "../kube-errors.ts";
import type { Logger } from "../log.ts";
import { type Clock, systemClock, type Timer } from "./clock.ts";

/** What an informer needs of an object: client-node's KubernetesObject and Kiln's zod types both fit. */
export interface ObjectWithMeta {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface ListResult<T> {
  items: T[];
  metadata?: { resourceVersion?: string };
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** Where an informer gets its objects: a list, and a watch from a resourceVersion. */
export interface InformerSource<T> {
  list(): Promise<ListResult<T>>;
  /** Starts a watch; done is called once when it ends, with the error if it failed. */
  watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, object: T) => void,
    done: (err?: unknown) => void,
  ): Promise<{ abort(): void }>;
}

export type InformerEventType = "add" | "update" | "delete" | "resync";
export type InformerHandler<T> = (type: InformerEventType, object: T, old?: T) => void;
export type IndexFunc<T> = (object: T) => string[];

export interface InformerOptions {
  clock?: Clock;
  log?: Logger;
  /** Every resyncMs every cached object is handed to the handlers again (0 disables). */
  resyncMs?: number;
  /** A watch with no event or bookmark for this long is assumed dead and restarted. */
  stallMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export const NAMESPACE_INDEX = "namespace";

class GoneError extends Error {}

function objectKey(object: ObjectWithMeta): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

export class Informer<T extends ObjectWithMeta> {
  readonly name: string;
  readonly #source: InformerSource<T>;
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  readonly #options: Required<Omit<InformerOptions, "clock" | "log">>;
  readonly #cache = new Map<string, T>();
  readonly #indexes = new Map<string, { fn: IndexFunc<T>; values: Map<string, Set<string>> }>();
  readonly #handlers: InformerHandler<T>[] = [];
  #resourceVersion = "";
  #stopped = true;
  #failures = 0;
  #current: { abort(): void } | undefined;
  /** Ends the watch under way: stop() must not wait for its stall timer (a source may not report an abort). */
  #endWatch: (() => void) | undefined;
  #wake: (() => void) | undefined;
  #resyncTimer: Timer | undefined;
  #synced = Promise.withResolvers<void>();
  #hasSynced = false;
  /** How many times the watch or list was restarted after a failure or stall. */
  restarts = 0;
  /** Lists after the first (a 410, or a list that failed): each replaces the whole cache. */
  relists = 0;

  constructor(name: string, source: InformerSource<T>, options: InformerOptions = {}) {
    this.name = name;
    this.#source = source;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log;
    this.#options = {
      resyncMs: options.resyncMs ?? 10 * 60_000,
      stallMs: options.stallMs ?? 5 * 60_000,
      minBackoffMs: options.minBackoffMs ?? 200,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
    };
    this.addIndex(NAMESPACE_INDEX, (o) => [o.metadata?.namespace ?? ""]);
  }

  on(handler: InformerHandler<T>): void {
    this.#handlers.push(handler);
  }

  /** Adds an index; byIndex(name, value) then returns the objects whose fn(object) includes value. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    const values = new Map<string, Set<string>>();
    this.#indexes.set(name, { fn, values });
    for (const [key, object] of this.#cache) this.#indexAdd(values, fn, key, object);
  }

  get(namespace: string, name: string): T | undefined {
    return this.#cache.get(`${namespace}/${name}`);
  }

  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.#cache.values()];
    return this.byIndex(NAMESPACE_INDEX, namespace);
  }

  byIndex(index: string, value: string): T[] {
    const entry = this.#indexes.get(index);
    if (!entry) throw new Error(`informer ${this.name}: no index "${index}"`);
    const keys = entry.values.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) {
      const object = this.#cache.get(key);
      if (object) out.push(object);
    }
    return out;
  }

  get size(): number {
    return this.#cache.size;
  }

  get hasSynced(): boolean {
    return this.#hasSynced;
  }

  /** Resolves once the first list is in the cache. */
  synced(): Promise<void> {
    return this.#synced.promise;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#scheduleResync();
    void this.#run();
  }

  stop(): void {
    this.#stopped = true;
    this.#resyncTimer?.cancel();
    this.#current?.abort();
    this.#endWatch?.();
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (!this.#resourceVersion) await this.#relist();
        if (this.#stopped) break;
        const began = this.#clock.now();
        await this.#watchOnce();
        if (this.#stopped) break;
        // A server that closes watches at once must not make us spin.
        if (this.#clock.now() - began < this.#options.minBackoffMs)
          await this.#sleep(this.#options.minBackoffMs);
      } catch (err) {
        if (this.#stopped) break;
        this.restarts++;
        if (err instanceof GoneError) {
          // Our resourceVersion is too old: relist at once (a relist is the cure, not a retry).
          this.#resourceVersion = "";
          this.#log?.info({ informer: this.name }, "watch expired (410), relisting");
          continue;
        }
        const delay = this.#backoff();
        this.#log?.warn(
          { informer: this.name, err: String(err), delayMs: delay },
          "watch failed, restarting",
        );
        await this.#sleep(delay);
      }
    }
  }

  #backoff(): number {
    const base = Math.min(this.#options.maxBackoffMs, this.#options.minBackoffMs * 2 ** this.#failures++);
    return base / 2 + Math.random() * (base / 2);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#clock.after(ms, () => {
        this.#wake = undefined;
        resolve();
      });
      this.#wake = () => {
        timer.cancel();
        resolve();
      };
    });
  }

  async #relist(): Promise<void> {
    if (this.#hasSynced) this.relists++;
    const list = await this.#source.list();
    this.#failures = 0;
    const fresh = new Map<string, T>();
    for (const object of list.items) fresh.set(objectKey(object), object);
    for (const [key, old] of this.#cache) {
      if (!fresh.has(key)) {
        this.#remove(key);
        this.#emit("delete", old);
      }
    }
    for (const [key, object] of fresh) this.#upsert(key, object);
    this.#resourceVersion = list.metadata?.resourceVersion ?? "";
    if (!this.#hasSynced) {
      this.#hasSynced = true;
      this.#synced.resolve();
    }
  }

  #watchOnce(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let finished = false;
      let stallTimer: Timer | undefined;
      const finish = (err?: unknown) => {
        if (finished) return;
        finished = true;
        this.#endWatch = undefined;
        stallTimer?.cancel();
        this.#current?.abort();
        this.#current = undefined;
        if (err) reject(err);
        else resolve();
      };
      const armStall = () => {
        stallTimer?.cancel();
        stallTimer = this.#clock.after(this.#options.stallMs, () =>
          finish(new Error(`no watch event for ${this.#options.stallMs}ms`)),
        );
      };
      this.#endWatch = () => finish();
      armStall();
      const onEvent = (type: WatchEventType, object: T) => {
        if (finished) return;
        armStall();
        if (type === "ERROR") {
          const code = (object as { code?: number }).code;
          finish(code === 410 ? new GoneError("resourceVersion too old") : new Error(`watch error ${code}`));
          return;
        }
        this.#failures = 0;
        const rv = object.metadata?.resourceVersion;
        if (rv) this.#resourceVersion = rv;
        if (type === "BOOKMARK") return;
        const key = objectKey(object);
        if (type === "DELETED") {
          const old = this.#cache.get(key);
          this.#remove(key);
          this.#emit("delete", old ?? object);
        } else {
          this.#upsert(key, object);
        }
      };
      const done = (err?: unknown) => {
        if (isGone(err)) finish(new GoneError("resourceVersion too old"));
        else if (err && (err as { name?: string }).name === "TimeoutError") finish();
        else finish(err ?? undefined);
      };
      this.#source.watch(this.#resourceVersion, onEvent, done).then(
        (handle) => {
          if (finished) handle.abort();
          else this.#current = handle;
        },
        (err) => finish(err),
      );
    });
  }

  #upsert(key: string, object: T): void {
    const old = this.#cache.get(key);
    if (old && old.metadata?.resourceVersion === object.metadata?.resourceVersion) return;
    if (old) this.#remove(key);
    this.#cache.set(key, object);
    for (const { fn, values } of this.#indexes.values()) this.#indexAdd(values, fn, key, object);
    this.#emit(old ? "update" : "add", object, old);
  }

  #remove(key: string): void {
    const old = this.#cache.get(key);
    if (!old) return;
    this.#cache.delete(key);
    for (const { fn, values } of this.#indexes.values()) {
      for (const value of fn(old)) {
        const keys = values.get(value);
        keys?.delete(key);
        if (keys?.size === 0) values.delete(value);
      }
    }
  }

  #indexAdd(values: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, object: T): void {
    for (const value of fn(object)) {
      let keys = values.get(value);
      if (!keys) {
        keys = new Set();
        values.set(value, keys);
      }
      keys.add(key);
    }
  }

  #emit(type: InformerEventType, object: T, old?: T): void {
    for (const handler of this.#handlers) {
      try {
        handler(type, object, old);
      } catch (err) {
        this.#log?.error({ informer: this.name, err }, "informer handler threw");
      }
    }
  }

  #scheduleResync(): void {
    if (this.#options.resyncMs <= 0) return;
    this.#resyncTimer = this.#clock.after(this.#options.resyncMs, () => {
      if (this.#stopped) return;
      for (const object of this.#cache.values()) this.#emit("resync", object);
      this.#scheduleResync();
    });
  }
}
