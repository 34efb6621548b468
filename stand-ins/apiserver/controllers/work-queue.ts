// The work queue of the server's workload controllers: keys deduplicated and handled on a later turn
// (after the write that caused them has been answered), delayed re-adds for time-based checks
// (minReadySeconds, progress deadlines), and per-key exponential back-off after a failure, forgotten
// on success — client-go's rate-limited queue (5 ms doubling, at most 1000 s).
import type { Logger } from "../../../lib/log.ts";
import { coalesce } from "../coalesce.ts";
import { ApiError } from "../errors.ts";

export interface HandleResult {
  /** Look again after this long (the earliest asked for wins). */
  requeueAfterMs?: number;
}

export type Handler = (key: string) => HandleResult | undefined;

const BASE_MS = 5;
const MAX_MS = 1000 * 1000;

export class WorkQueue {
  private readonly handler: Handler;
  private readonly log: Logger | undefined;
  private readonly name: string;
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private stopped = false;
  private readonly enqueue = coalesce<string>(setImmediate, (key) => this.run(key));

  constructor(name: string, handler: Handler, log?: Logger) {
    this.name = name;
    this.handler = handler;
    this.log = log;
  }

  add(key: string): void {
    if (!this.stopped) this.enqueue(key);
  }

  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  stop(): void {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private run(key: string): void {
    if (this.stopped) return;
    try {
      const result = this.handler(key);
      this.failures.delete(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      // Conflicts and refusals are the normal life of a controller; anything else is a bug to see.
      if (!(error instanceof ApiError)) this.log?.error({ err: error, key }, `${this.name} failed`);
      this.addAfter(key, Math.min(BASE_MS * 2 ** (n - 1), MAX_MS));
    }
  }
}
