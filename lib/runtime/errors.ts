// A reconcile error that retrying cannot fix (a bad manifest, a child we do not own): not retried,
// counted and logged; the reconciler records it in the object's status itself.
export class TerminalError extends Error {
  readonly reason: string;

  constructor(reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TerminalError";
    this.reason = reason;
  }
}

export function isTerminal(err: unknown): err is TerminalError {
  return err instanceof TerminalError;
}
