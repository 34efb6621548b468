// The store's Prometheus metrics, on their own registry (served on the metrics port by main.ts).
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface StoreMetrics {
  requests: Counter<"route" | "code">;
  requestSeconds: Histogram<"route">;
  bytesReceived: Counter<"kind">;
  bytesSent: Counter<"kind">;
  cacheRestores: Counter<"result">;
  denied: Counter<"code">;
  swept: Counter<"kind">;
  cacheBytes: Gauge;
  logBuilds: Gauge;
}

export function storeMetrics(registry: Registry): StoreMetrics {
  const registers = [registry];
  return {
    requests: new Counter({
      name: "kiln_store_requests_total",
      help: "Requests by route and status code.",
      labelNames: ["route", "code"],
      registers,
    }),
    requestSeconds: new Histogram({
      name: "kiln_store_request_duration_seconds",
      help: "Time to answer a request (a followed log: until it ends).",
      labelNames: ["route"],
      buckets: [0.005, 0.025, 0.1, 0.5, 2, 10, 60, 300],
      registers,
    }),
    bytesReceived: new Counter({
      name: "kiln_store_received_bytes_total",
      help: "Bytes stored, by kind (log, cache).",
      labelNames: ["kind"],
      registers,
    }),
    bytesSent: new Counter({
      name: "kiln_store_sent_bytes_total",
      help: "Bytes sent, by kind (log, cache).",
      labelNames: ["kind"],
      registers,
    }),
    cacheRestores: new Counter({
      name: "kiln_store_cache_restores_total",
      help: "Cache lookups by result: exact, fallback (a prefix or another branch), miss.",
      labelNames: ["result"],
      registers,
    }),
    denied: new Counter({
      name: "kiln_store_denied_total",
      help: "Requests refused by authentication (401) or authorisation (403).",
      labelNames: ["code"],
      registers,
    }),
    swept: new Counter({
      name: "kiln_store_swept_total",
      help: "What the retention sweep deleted: Builds' logs (logs), caches (caches).",
      labelNames: ["kind"],
      registers,
    }),
    cacheBytes: new Gauge({
      name: "kiln_store_cache_bytes",
      help: "Bytes of caches stored, as of the latest sweep plus saves since.",
      registers,
    }),
    logBuilds: new Gauge({
      name: "kiln_store_log_builds",
      help: "Builds with logs stored, as of the latest sweep.",
      registers,
    }),
  };
}
