// Lifecycle hooks (postStart, preStop): exec inside the container, httpGet, or sleep, bounded by
// a timeout (for preStop: what is left of the grace period, as the kubelet does).
import type { V1LifecycleHandler } from "@kubernetes/client-node";
import type { ProbeTarget } from "./exec.ts";
import { type ProbeResult, probe } from "./probes.ts";

export async function runHook(
  handler: V1LifecycleHandler,
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  if (handler.sleep) {
    await new Promise((r) => setTimeout(r, Math.min(handler.sleep!.seconds * 1000, timeoutMs)));
    return { ok: true };
  }
  const timeoutSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  if (handler.exec) return probe({ exec: handler.exec, timeoutSeconds }, target);
  if (handler.httpGet) return probe({ httpGet: handler.httpGet, timeoutSeconds }, target);
  // tcpSocket hooks are deprecated and do nothing in the kubelet either.
  return { ok: true };
}
