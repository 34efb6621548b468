// Build metrics: builds by phase (counted from the cache at scrape time), queue time and build duration.
import { Gauge, Histogram, type Registry } from "prom-client";
import { BUILD_PHASES, type Build } from "../../api/build.ts";

export interface BuildMetrics {
  queueSeconds: Histogram;
  durationSeconds: Histogram<"phase">;
}

export function buildMetrics(registry: Registry, builds: () => Iterable<Build>): BuildMetrics {
  new Gauge({
    name: "kiln_builds",
    help: "Builds by phase, as the controller sees them now.",
    labelNames: ["phase"],
    registers: [registry],
    collect() {
      const counts = new Map<string, number>(BUILD_PHASES.map((p) => [p, 0]));
      for (const b of builds()) {
        const phase = b.status?.phase ?? "Queued";
        counts.set(phase, (counts.get(phase) ?? 0) + 1);
      }
      for (const [phase, n] of counts) this.set({ phase }, n);
    },
  });
  return {
    queueSeconds: new Histogram({
      name: "kiln_build_queue_seconds",
      help: "Time from a Build's creation to its pod's creation.",
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 1800],
      registers: [registry],
    }),
    durationSeconds: new Histogram({
      name: "kiln_build_duration_seconds",
      help: "How long finished builds ran, by final phase.",
      labelNames: ["phase"],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [registry],
    }),
  };
}
