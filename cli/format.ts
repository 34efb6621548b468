// What `kiln get` prints: a table of builds, newest first, kubectl's way (upper-case headers, columns two
// spaces apart, ages as kubectl shows them), each with its steps. Pure: the clock comes in.
import { type Build, newestFirst, type StepStatus } from "../api/build.ts";
import { formatDuration, humanDuration } from "../api/duration.ts";

/** Columns two spaces apart, each as wide as its widest cell; the last one is not padded. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const STEP_MARKS: Record<StepStatus["phase"], string> = {
  Pending: "pending",
  Running: "running",
  Paused: "paused",
  Succeeded: "ok",
  Failed: "failed",
  Skipped: "skipped",
  Cancelled: "cancelled",
  TimedOut: "timed-out",
};

/** `install:ok test:failed(2) deploy:skipped`: every step, in order, with a failure's exit code. */
export function stepsSummary(steps: readonly StepStatus[] | undefined): string {
  if (!steps?.length) return "-";
  return steps
    .map((s) => {
      // A step paused at its failure has the exit code too.
      const failed = s.phase === "Failed" || (s.phase === "Paused" && !!s.exitCode);
      const code = failed && s.exitCode !== undefined ? `(${s.exitCode})` : "";
      return `${s.name}:${STEP_MARKS[s.phase]}${code}`;
    })
    .join(" ");
}

/** status.duration once finished; how long it has been running otherwise. */
function duration(build: Build, now: number): string {
  if (build.status?.duration) return build.status.duration;
  const start = Date.parse(build.status?.startTime ?? "");
  return Number.isNaN(start) ? "-" : formatDuration(Math.max(0, now - start));
}

function age(build: Build, now: number): string {
  const created = Date.parse(build.metadata.creationTimestamp ?? "");
  return Number.isNaN(created) ? "-" : humanDuration(now - created);
}

export interface BuildTableOptions {
  now: number;
  /** Show the NAMESPACE column (builds of every namespace). */
  namespaces?: boolean;
  /** Leave out the REPOSITORY column (builds of one repository). */
  repository?: boolean;
}

/** The builds as a table, newest first. */
export function buildTable(builds: readonly Build[], options: BuildTableOptions): string {
  const { now } = options;
  const header = [
    ...(options.namespaces ? ["NAMESPACE"] : []),
    "NAME",
    ...(options.repository ? [] : ["REPOSITORY"]),
    "BRANCH",
    "COMMIT",
    "PHASE",
    "DURATION",
    "AGE",
    "STEPS",
  ];
  const rows = [...builds]
    .sort(newestFirst)
    .map((b) => [
      ...(options.namespaces ? [b.metadata.namespace ?? ""] : []),
      b.metadata.name ?? "",
      ...(options.repository ? [] : [b.spec.repository]),
      b.spec.revision.branch ?? b.spec.revision.tag ?? "-",
      b.spec.revision.sha.slice(0, 7),
      b.status?.phase ?? "-",
      duration(b, now),
      age(b, now),
      stepsSummary(b.status?.steps),
    ]);
  return table([header, ...rows]);
}
