// One probe's schedule, as the kubelet's prober worker runs it: wait initialDelaySeconds, probe
// every periodSeconds, report a result once successThreshold successes or failureThreshold
// failures are in a row. `onResult` returns whether to keep probing.
import type { V1Probe } from "@kubernetes/client-node";
import type { ProbeTarget } from "./exec.ts";
import { probe } from "./probes.ts";

export type ProbeKind = "startup" | "readiness" | "liveness";

export interface ProbeLoop {
  kind: ProbeKind;
  spec: V1Probe;
  target: ProbeTarget;
  signal: AbortSignal;
  sleep(ms: number): Promise<void>;
  /** Every failed attempt (the kubelet's Unhealthy event). */
  onFailure(message: string): void;
  onResult(ok: boolean): boolean;
}

export async function probeLoop(p: ProbeLoop): Promise<void> {
  const { spec } = p;
  await p.sleep((spec.initialDelaySeconds ?? 0) * 1000);
  let failures = 0;
  let successes = 0;
  while (!p.signal.aborted) {
    const r = await probe(spec, p.target);
    if (p.signal.aborted) return;
    if (r.ok) {
      successes++;
      failures = 0;
    } else {
      failures++;
      successes = 0;
      p.onFailure(`${p.kind[0]!.toUpperCase()}${p.kind.slice(1)} probe failed: ${r.message ?? ""}`);
    }
    const ok = r.ok && successes >= (spec.successThreshold ?? 1);
    const fail = !r.ok && failures >= (spec.failureThreshold ?? 3);
    if ((ok || fail) && !p.onResult(ok)) return;
    await p.sleep((spec.periodSeconds ?? 10) * 1000);
  }
}
