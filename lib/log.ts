// The one JSON logger. Child loggers carry {component, namespace, name}; tokens and whole payloads
// never go in (the redact list is a safety net, not a licence).
import { type Logger, pino } from "pino";

export type { Logger };

export interface LogOptions {
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read them back. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(component: string, options: LogOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { component },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          "token",
          "*.token",
          "secret",
          "*.secret",
          "authorization",
          "*.authorization",
          "headers.authorization",
        ],
        censor: "[redacted]",
      },
    },
    (options.destination ?? process.stdout) as pino.DestinationStream,
  );
}

/** A logger that writes nothing, for tests that do not read logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
