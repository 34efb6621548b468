// The table `kiln run` ends with: step, status, duration.
import type { StepStatus } from "../api/build.ts";
import { formatDuration } from "../api/duration.ts";

export function summaryTable(steps: readonly StepStatus[]): string {
  const rows = steps.map((s) => [s.name, s.phase + (s.exitCode ? ` (exit ${s.exitCode})` : ""), took(s)]);
  const all = [["STEP", "STATUS", "DURATION"], ...rows];
  const widths = [0, 1].map((c) => Math.max(...all.map((r) => r[c]!.length)));
  return all
    .map((r) => `${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]}`.trimEnd())
    .join("\n");
}

function took(s: StepStatus): string {
  if (!s.startTime || !s.completionTime) return "";
  return formatDuration(Date.parse(s.completionTime) - Date.parse(s.startTime));
}
