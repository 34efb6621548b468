// Prometheus metrics every controller shares, labelled by controller name; one set per registry.
import { Counter, Gauge, Histogram, type Registry, register } from "prom-client";

export interface RuntimeMetrics {
  reconciles: Counter<"controller" | "result">;
  reconcileErrors: Counter<"controller" | "kind">;
  reconcileSeconds: Histogram<"controller">;
  queueDepth: Gauge<"controller">;
}

const byRegistry = new WeakMap<Registry, RuntimeMetrics>();

export function runtimeMetrics(registry: Registry = register): RuntimeMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    const registers = [registry];
    metrics = {
      reconciles: new Counter({
        name: "kiln_reconcile_total",
        help: "Reconciles by controller and result (success, requeue, error, terminal).",
        labelNames: ["controller", "result"],
        registers,
      }),
      reconcileErrors: new Counter({
        name: "kiln_reconcile_errors_total",
        help: "Reconciles that threw, by controller and kind (retried or terminal).",
        labelNames: ["controller", "kind"],
        registers,
      }),
      reconcileSeconds: new Histogram({
        name: "kiln_reconcile_duration_seconds",
        help: "Time spent in one reconcile.",
        labelNames: ["controller"],
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
        registers,
      }),
      queueDepth: new Gauge({
        name: "kiln_workqueue_depth",
        help: "Keys waiting in a controller's work queue.",
        labelNames: ["controller"],
        registers,
      }),
    };
    byRegistry.set(registry, metrics);
  }
  return metrics;
}
