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

/** The Kubernetes API (or something else Kiln needs) cannot be reached: 503, so GitHub marks the delivery failed. */
export class UnavailableError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super(503, message, { ...options, expose: true });
    this.name = "UnavailableError";
  }
}
