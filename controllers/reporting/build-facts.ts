// Facts about a Build that messages and commit statuses show, derived purely from its record.
import type { Build, StepStatus } from "../../api/build.ts";
import { formatDuration } from "../../api/duration.ts";

export function shortSha(build: Build): string {
  return build.spec.revision.sha.slice(0, 7);
}

/** The first line of the commit message. */
export function commitTitle(build: Build): string {
  const message = build.spec.revision.message ?? "";
  const newline = message.search(/\r?\n/);
  return (newline < 0 ? message : message.slice(0, newline)).trim();
}

/** The branch or tag; else the ref; a bare commit (a Build written by hand with only a sha) has none. */
export function branchOrTag(build: Build): string {
  const { revision } = build.spec;
  return revision.branch ?? revision.tag ?? revision.ref ?? "(no branch)";
}

/** status.duration when the build controller wrote it, else computed from the times; now for running builds. */
export function buildDuration(build: Build, now?: number): string | undefined {
  if (build.status?.duration) return build.status.duration;
  const start = Date.parse(build.status?.startTime ?? "");
  if (Number.isNaN(start)) return undefined;
  const end = build.status?.completionTime ? Date.parse(build.status.completionTime) : now;
  if (end === undefined || Number.isNaN(end) || end < start) return undefined;
  return formatDuration(end - start);
}

/** The step that failed or timed out, if any. */
export function failingStep(build: Build): StepStatus | undefined {
  return build.status?.steps?.find((step) => step.phase === "Failed" || step.phase === "TimedOut");
}
