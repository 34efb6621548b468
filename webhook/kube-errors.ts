// Sorting Kubernetes client failures: an unreachable or overloaded API server is "unavailable" (503 to
// GitHub, so the delivery shows failed and is redelivered later); anything else is a real error.
import { ApiException } from "@kubernetes/client-node";

export function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

export function isUnavailable(err: unknown): boolean {
  const status = statusOf(err);
  if (status === undefined) return true; // no HTTP answer at all: refused, reset, timed out
  return status === 429 || status >= 500;
}
