// What the store's HTTP app needs, wired once by main.ts (or a test).
import type { Logger } from "../lib/log.ts";
import type { Backend } from "./backend.ts";
import type { CacheStore } from "./caches.ts";
import type { Authorizer } from "./kube-auth.ts";
import type { LogStore } from "./logs.ts";
import type { StoreMetrics } from "./metrics.ts";

export interface StoreLimits {
  /** The largest body of one log append. */
  maxChunkBytes: number;
  /** The largest cache archive. */
  maxArchiveBytes: number;
  /** How long one followed read stays open before the server ends it (the client asks again). */
  followMs: number;
}

export interface StoreDeps {
  backend: Backend;
  logs: LogStore;
  caches: CacheStore;
  auth: Authorizer;
  metrics: StoreMetrics;
  log: Logger;
  limits: StoreLimits;
  /** Aborts when the server stops: followed reads end. */
  stopping: AbortSignal;
}
