// Kubernetes API errors by kind: client-node throws ApiException with the HTTP status in `code`.
export function httpStatus(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === "number") return e.code;
  if (typeof e.statusCode === "number") return e.statusCode;
  return undefined;
}

/** The Status body's reason (AlreadyExists, Conflict, Invalid …), when the server sent one. */
export function statusReason(err: unknown): string | undefined {
  const body = (err as { body?: unknown } | undefined)?.body;
  if (typeof body === "string") {
    try {
      return (JSON.parse(body) as { reason?: string }).reason;
    } catch {
      return undefined;
    }
  }
  return (body as { reason?: string } | undefined)?.reason;
}

export const isNotFound = (err: unknown): boolean => httpStatus(err) === 404;
export const isGone = (err: unknown): boolean => httpStatus(err) === 410;

/** 409 with reason AlreadyExists (a create of an existing name). */
export function isAlreadyExists(err: unknown): boolean {
  return httpStatus(err) === 409 && statusReason(err) !== "Conflict";
}

/** 409 with reason Conflict (a stale resourceVersion). */
export function isConflict(err: unknown): boolean {
  return httpStatus(err) === 409 && statusReason(err) !== "AlreadyExists";
}

/** Errors worth retrying as they are: throttling, server trouble, timeouts, connection failures. */
export function isTransient(err: unknown): boolean {
  const status = httpStatus(err);
  if (status === undefined) return true;
  return status === 409 || status === 429 || status >= 500 || status === 408;
}
