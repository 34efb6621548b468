// Errors that carry an HTTP status and whether their message may be shown to the client, as koa's
// ctx.throw makes them: the client sees a short reason, the log sees the rest.
export class HttpError extends Error {
  readonly status: number;
  readonly expose: boolean;

  constructor(status: number, message: string, options?: ErrorOptions & { expose?: boolean }) {
    super(message, options);
    this.name = "HttpError";
    this.status = status;
    this.expose = options?.expose ?? status < 500;
  }
}

/** The Kubernetes API (or something else Kiln needs) cannot be reached: 503, so the client tries again (GitHub marks the delivery failed). */
export class UnavailableError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super(503, message, { ...options, expose: true });
    this.name = "UnavailableError";
  }
}

/**
 * What a server answers for an error a handler threw: ours (HttpError) or koa's own (http-errors) carry a
 * status and whether their message may be shown; anything else is a 500 that shows nothing of itself.
 */
export function errorAnswer(err: unknown): { status: number; body: { message: string } } {
  const { status: given, expose: shown } = (err ?? {}) as { status?: unknown; expose?: unknown };
  const status = typeof given === "number" && given >= 400 && given < 600 ? given : 500;
  const expose = status < 500 ? shown !== false : shown === true;
  return { status, body: { message: expose ? (err as Error).message : "internal error" } };
}
