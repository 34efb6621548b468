// Drives a pipeline, step by step, the same way in local mode and in the build pod: when-filters,
// per-step and overall deadlines (TERM, then KILL after a grace period), cancellation, pauses, and
// a step record for each step. How a step runs (local process group or the pod's runner) and how a
// pause is resumed are injected.
import type { StepPhase, StepStatus } from "../api/build.ts";
import { formatDuration } from "../api/duration.ts";
import { isPause, type Pipeline, type RunStep } from "./manifest-schema.ts";
import { skipReason } from "./when.ts";

export type StopSignal = "TERM" | "KILL";

/** A running step. `exited` resolves once its shell exited and its output is drained. */
export interface StepProcess {
  exited: Promise<{ exitCode: number; tail: string }>;
  signal(signal: StopSignal): void;
}

export interface Executor {
  start(index: number, step: RunStep, env: Record<string, string>): Promise<StepProcess>;
}

export type PauseOutcome = "resumed" | "deadline";

export interface Pauser {
  /**
   * Called before the Paused record is published, so nothing a person does after seeing it (touch a
   * file, set an annotation) can be lost; returns what `wait` compares against.
   */
  prepare?(): Promise<unknown>;
  /** Resolves when resumed or at the deadline; the abort signal ends it early (cancel, overall timeout). */
  wait(
    info: {
      index: number;
      name: string;
      message: string;
      deadline: number;
      prepared: unknown;
      /** The pause now ends later (a hold): the record's message says so. */
      extended?: (deadline: number) => void;
    },
    abort: AbortSignal,
  ): Promise<PauseOutcome>;
  /** The step record message while paused. */
  message(info: { name: string; deadline: number; reason: string }): string;
}

export type Outcome = "Succeeded" | "Failed" | "TimedOut" | "Cancelled";

export interface RunResult {
  outcome: Outcome;
  steps: StepStatus[];
  /** The step that decided a non-success outcome. */
  failedStep?: { name: string; exitCode?: number; phase: StepPhase };
}

export interface RunOptions {
  executor: Executor;
  pauser: Pauser;
  /** Called with a fresh copy of all step records after every change. */
  onUpdate?: (steps: StepStatus[]) => void;
  /** Called when a step starts and ends (for console output). */
  onStep?: (event: { index: number; record: StepStatus }) => void;
  branch?: string;
  pauseOnFailure?: boolean;
  /** Extra env for every step (CI=true, KILN_*…), under the manifest's. */
  baseEnv?: Record<string, string>;
  cancel?: AbortSignal;
  now?: () => number;
  /** Between TERM and KILL. */
  graceMs?: number;
}

export const DEFAULT_GRACE_MS = 5000;
/** Deadline of a pause that sets none (and of pauseOnFailure). */
const DEFAULT_PAUSE_MS = 30 * 60_000;
/** Characters of a failed step's output kept in its record's message. */
export const MESSAGE_TAIL = 1000;

export async function runPipeline(pipeline: Pipeline, options: RunOptions): Promise<RunResult> {
  const now = options.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const started = now();
  // The manifest's `timeout`; the Build's own is the pod's activeDeadlineSeconds.
  const overall = pipeline.timeout === undefined ? Number.POSITIVE_INFINITY : started + pipeline.timeout;
  const records: StepStatus[] = pipeline.steps.map((s) => ({ name: s.name, phase: "Pending" }));
  const update = () => options.onUpdate?.(records.map((r) => ({ ...r })));
  const set = (i: number, patch: Partial<StepStatus>) => {
    records[i] = { ...records[i]!, ...patch };
    update();
  };
  update();

  const finish = (outcome: Outcome, i?: number): RunResult => {
    for (let j = 0; j < records.length; j++) {
      if (records[j]!.phase === "Pending")
        records[j] = { ...records[j]!, phase: "Skipped", message: "not run" };
    }
    update();
    const r = i === undefined ? undefined : records[i]!;
    return {
      outcome,
      steps: records.map((x) => ({ ...x })),
      ...(r
        ? {
            failedStep: {
              name: r.name,
              phase: r.phase,
              ...(r.exitCode === undefined ? {} : { exitCode: r.exitCode }),
            },
          }
        : {}),
    };
  };

  for (let i = 0; i < pipeline.steps.length; i++) {
    const step = pipeline.steps[i]!;
    if (options.cancel?.aborted) return finish("Cancelled");
    if (now() >= overall) return finish("TimedOut");
    const skip = skipReason(step, options.branch);
    if (skip) {
      set(i, { phase: "Skipped", message: skip });
      continue;
    }
    const startTime = iso();
    if (isPause(step)) {
      const deadline = Math.min(now() + (step.timeout ?? DEFAULT_PAUSE_MS), overall);
      const outcome = await pause(i, step.name, deadline, "Paused by a pause step.", startTime);
      if (outcome === "cancelled") return finish("Cancelled", i);
      if (outcome === "overall") return finish("TimedOut", i);
      set(i, {
        phase: "Succeeded",
        completionTime: iso(),
        message: outcome === "resumed" ? "resumed" : "not resumed: the pause ended at its deadline",
      });
      continue;
    }
    const stepDeadline = Math.min(
      step.timeout === undefined ? Number.POSITIVE_INFINITY : now() + step.timeout,
      overall,
    );
    set(i, { phase: "Running", startTime });
    options.onStep?.({ index: i, record: records[i]! });
    const env = { ...options.baseEnv, ...pipeline.env, ...step.env, KILN_STEP: step.name };
    const { exitCode, tail, stoppedBy } = await runStep(i, step, env, stepDeadline);
    const completion = { startTime, completionTime: iso(), exitCode };
    if (stoppedBy === "cancel") {
      set(i, { phase: "Cancelled", ...completion, message: "cancelled" });
      options.onStep?.({ index: i, record: records[i]! });
      return finish("Cancelled", i);
    }
    if (stoppedBy === "deadline") {
      const which = stepDeadline === overall && step.timeout === undefined ? "the pipeline" : "the step";
      const limit = which === "the step" ? step.timeout! : overall - started;
      set(i, {
        phase: "TimedOut",
        ...completion,
        message: `${which} ran out of time (${formatDuration(limit)})`,
      });
      options.onStep?.({ index: i, record: records[i]! });
      return finish("TimedOut", i);
    }
    if (exitCode === 0) {
      set(i, { phase: "Succeeded", ...completion });
      options.onStep?.({ index: i, record: records[i]! });
      continue;
    }
    // A short tail: the record lives in Build.status (etcd objects are small); the log has the rest.
    const short = tail.length > MESSAGE_TAIL ? `…${tail.slice(-MESSAGE_TAIL)}` : tail;
    const failure = `exited with code ${exitCode}${short ? `; last output:\n${short}` : ""}`;
    set(i, { phase: "Failed", ...completion, message: failure });
    options.onStep?.({ index: i, record: records[i]! });
    if (options.pauseOnFailure) {
      const deadline = Math.min(now() + DEFAULT_PAUSE_MS, overall);
      const outcome = await pause(
        i,
        step.name,
        deadline,
        `Step ${step.name} failed with exit code ${exitCode}.`,
        startTime,
        completion,
      );
      set(i, { phase: "Failed", ...completion, message: failure });
      if (outcome === "cancelled") return finish("Cancelled", i);
      if (outcome === "overall") return finish("TimedOut", i);
    }
    return finish("Failed", i);
  }
  return finish("Succeeded");

  async function pause(
    i: number,
    name: string,
    deadline: number,
    reason: string,
    startTime: string,
    extra: Partial<StepStatus> = {},
  ): Promise<"resumed" | "deadline" | "cancelled" | "overall"> {
    const message = options.pauser.message({ name, deadline, reason });
    const prepared = await options.pauser.prepare?.();
    set(i, { ...extra, phase: "Paused", startTime, message });
    options.onStep?.({ index: i, record: records[i]! });
    const abort = new AbortController();
    const onCancel = () => abort.abort();
    options.cancel?.addEventListener("abort", onCancel);
    const overallTimer =
      Number.isFinite(overall) && overall <= deadline
        ? setTimeout(onCancel, Math.max(0, overall - now()))
        : undefined;
    try {
      const extended = (until: number) => {
        set(i, { message: options.pauser.message({ name, deadline: until, reason }) });
        options.onStep?.({ index: i, record: records[i]! });
      };
      const outcome = await options.pauser.wait(
        { index: i, name, message, deadline, prepared, extended },
        abort.signal,
      );
      if (options.cancel?.aborted) return "cancelled";
      if (abort.signal.aborted) return "overall";
      return outcome;
    } finally {
      clearTimeout(overallTimer);
      options.cancel?.removeEventListener("abort", onCancel);
    }
  }

  async function runStep(i: number, step: RunStep, env: Record<string, string>, deadline: number) {
    const proc = await options.executor.start(i, step, env);
    let stoppedBy: "cancel" | "deadline" | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: "cancel" | "deadline") => {
      if (stoppedBy) return;
      stoppedBy = why;
      proc.signal("TERM");
      killTimer = setTimeout(() => proc.signal("KILL"), options.graceMs ?? DEFAULT_GRACE_MS);
    };
    const onCancel = () => stop("cancel");
    if (options.cancel?.aborted) onCancel();
    options.cancel?.addEventListener("abort", onCancel);
    const timer = Number.isFinite(deadline)
      ? setTimeout(() => stop("deadline"), Math.max(0, deadline - now()))
      : undefined;
    try {
      const { exitCode, tail } = await proc.exited;
      return { exitCode, tail, stoppedBy };
    } finally {
      clearTimeout(timer);
      clearTimeout(killTimer);
      options.cancel?.removeEventListener("abort", onCancel);
    }
  }
}
