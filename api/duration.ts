import { z } from "zod";

// Durations as users write them in resources and .kiln.yaml: Go-style "90s", "10m", "1h30m".
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

export const DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";
const WHOLE = new RegExp(DURATION_PATTERN);
const PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;

/** Milliseconds in a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return total;
}

/** A compact human form: 950ms, 42s, 3m07s, 1h02m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** apimachinery's duration.HumanDuration, as kubectl shows ages: "45s", "5m3s", "3h20m", "6d", "2y30d"… */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(seconds / 3600);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.trunc(hours / 24) % 365;
    const years = Math.trunc(hours / 24 / 365);
    return days === 0 ? `${years}y` : `${years}y${days}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/**
 * A duration in milliseconds, as zod: the one schema for every duration Kiln reads (flags, environment,
 * .kiln.yaml). A number is an error ("write 30s or 30m") unless `numbersAreMs` (values computed in code).
 */
export function durationMs(options: { numbersAreMs?: boolean; positive?: boolean } = {}) {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    if (typeof value === "number") {
      if (options.numbersAreMs && Number.isInteger(value) && value >= 0) return value;
      ctx.addIssue({
        code: "custom",
        message: `a duration needs a unit: write "${value}s" or "${value}m", not ${value}`,
      });
      return z.NEVER;
    }
    const ms = parseDuration(value);
    if (ms === undefined || (options.positive && ms <= 0)) {
      ctx.addIssue({
        code: "custom",
        message: `"${value}" is not a duration: write it like 90s, 10m or 1h30m`,
      });
      return z.NEVER;
    }
    return ms;
  });
}
