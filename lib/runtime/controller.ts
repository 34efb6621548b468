// Wires informers → keys → a work queue → reconcile(key). Reconcile gets a key, never an event: it reads
// the current state from the caches. Returning {requeueAfter} looks again later; throwing retries with
// per-key backoff; a TerminalError is not retried. At most one worker handles a key at a time.
import type { Registry } from "prom-client";
import { isConflict } from "../kube-errors.ts";
import type { Logger } from "../log.ts";
import type { Clock } from "./clock.ts";
import { isTerminal } from "./errors.ts";
import type { Informer, InformerEventType, ObjectWithMeta } from "./informer.ts";
import { keyString, type ObjectKey, parseKey } from "./keys.ts";
import { runtimeMetrics } from "./metrics.ts";
import type { RateLimitOptions } from "./rate-limit.ts";
import { WorkQueue } from "./work-queue.ts";

export type ReconcileResult = { requeueAfter?: number } | undefined;
// biome-ignore lint/suspicious/noConfusingVoidType: a reconciler that has nothing to say returns nothing
export type Reconciler = (key: ObjectKey) => Promise<ReconcileResult | void>;

export interface Watch<T extends ObjectWithMeta> {
  informer: Informer<T>;
  /**
   * The keys to reconcile when this object changes (its own, its owner's, its siblings' …): told what
   * happened (old is set on updates), so no controller needs an event handler of its own.
   */
  keys: (object: T, old: T | undefined, type: InformerEventType) => ObjectKey | ObjectKey[] | undefined;
}

export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  // biome-ignore lint/suspicious/noExplicitAny: watches of different kinds share one list
  watches: Watch<any>[];
  log: Logger;
  workers?: number;
  clock?: Clock;
  rateLimit?: RateLimitOptions;
  registry?: Registry;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #o: ControllerOptions;
  readonly #metrics;
  #workers: Promise<void>[] = [];
  #running = false;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#o = options;
    this.queue = new WorkQueue({ clock: options.clock, ...options.rateLimit });
    this.#metrics = runtimeMetrics(options.registry);
    for (const watch of options.watches) {
      watch.informer.on((type, object, old) => {
        const keys = watch.keys(object, old, type);
        if (keys === undefined) return;
        for (const key of Array.isArray(keys) ? keys : [keys]) this.enqueue(key);
      });
    }
  }

  enqueue(key: ObjectKey, afterMs = 0): void {
    this.queue.addAfter(keyString(key), afterMs);
  }

  /** Starts the informers, waits for their first lists, then the workers. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    for (const { informer } of this.#o.watches) informer.start();
    await Promise.all(this.#o.watches.map(({ informer }) => informer.synced()));
    if (!this.#running) return;
    const workers = this.#o.workers ?? 4;
    for (let i = 0; i < workers; i++) this.#workers.push(this.#work());
    this.#o.log.info({ controller: this.name, workers }, "controller started");
  }

  /** Stops taking keys at once; resolves when reconciles in flight have returned. */
  async stop(): Promise<void> {
    this.#running = false;
    this.queue.shutDown();
    for (const { informer } of this.#o.watches) informer.stop();
    await Promise.all(this.#workers);
    this.#workers = [];
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined || !this.#running) return;
      try {
        await this.#process(key);
      } finally {
        this.queue.done(key);
        this.#metrics.queueDepth.set({ controller: this.name }, this.queue.length);
      }
    }
  }

  async #process(key: string): Promise<void> {
    const labels = { controller: this.name };
    const end = this.#metrics.reconcileSeconds.startTimer(labels);
    try {
      const result = await this.#o.reconcile(parseKey(key));
      this.queue.forget(key);
      if (result?.requeueAfter !== undefined && this.#running) {
        this.queue.addAfter(key, result.requeueAfter);
        this.#metrics.reconciles.inc({ ...labels, result: "requeue" });
      } else {
        this.#metrics.reconciles.inc({ ...labels, result: "success" });
      }
    } catch (err) {
      if (isTerminal(err)) {
        this.queue.forget(key);
        this.#metrics.reconciles.inc({ ...labels, result: "terminal" });
        this.#metrics.reconcileErrors.inc({ ...labels, kind: "terminal" });
        this.#o.log.error(
          { controller: this.name, key, reason: err.reason, err: err.message },
          "reconcile failed for good",
        );
      } else {
        this.#metrics.reconciles.inc({ ...labels, result: "error" });
        this.#metrics.reconcileErrors.inc({ ...labels, kind: "retry" });
        const retries = this.queue.retries(key);
        // A conflict only means our cache was behind; it is retried at once and is no news.
        this.#o.log[isConflict(err) ? "debug" : "warn"](
          { controller: this.name, key, retries, err: String(err) },
          "reconcile failed, retrying",
        );
        if (this.#running) this.queue.addRateLimited(key);
      }
    } finally {
      end();
    }
  }
}
