// `kiln run [dir]`: runs the .kiln.yaml of dir in the local shell, to debug a pipeline without a
// cluster. Exit codes: 0 success, 1 a step failed or timed out, 2 invalid manifest or usage, 130 cancelled.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseDuration } from "../api/duration.ts";
import { localExecutor } from "./local-executor.ts";
import { formatError, parsePipeline } from "./manifest.ts";
import type { Pipeline } from "./manifest-schema.ts";
import { DEFAULT_GRACE_MS, type Pauser, type RunResult, runPipeline } from "./pipeline-run.ts";
import { summaryTable } from "./summary.ts";

const USAGE = `Usage: kiln run [dir] [options]

Runs the pipeline in dir/.kiln.yaml on this machine's shell (images and services are not used).

Options:
  -f, --file <path>       manifest path relative to dir (default .kiln.yaml)
  -b, --branch <name>     branch for steps' when.branches (default: dir's current git branch)
      --pause-on-failure  pause at a failed step until Enter (or SIGUSR1), as builds can in a pod
      --grace <duration>  time between TERM and KILL when stopping a step (default 5s)
  -h, --help`;

const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export async function main(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    console.error(`kiln run: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.positionals.length > 1) {
    console.error(`kiln run: expected at most one directory\n\n${USAGE}`);
    return 2;
  }
  const dir = resolve(parsed.positionals[0] ?? ".");
  const file = parsed.values.file ?? ".kiln.yaml";
  const grace = parsed.values.grace === undefined ? DEFAULT_GRACE_MS : parseDuration(parsed.values.grace);
  if (grace === undefined) {
    console.error(`kiln run: --grace "${parsed.values.grace}" is not a duration (like 5s or 500ms)`);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(resolve(dir, file), "utf8");
  } catch (error) {
    console.error(
      `kiln run: cannot read ${resolve(dir, file)}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
    return 2;
  }
  const result = parsePipeline(text, file);
  if (!result.ok) {
    for (const e of result.errors) console.error(formatError(e));
    return 2;
  }
  const pipeline = result.pipeline;
  for (const note of localNotes(pipeline)) console.error(`kiln run: ${note}`);
  const branch = parsed.values.branch ?? currentBranch(dir);
  const cancel = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (!cancel.signal.aborted) console.error(`\nkiln run: ${signal}: stopping the running step`);
    cancel.abort();
  };
  // SIGUSR1 resumes a pause; one arriving outside a pause must not kill the run (its default).
  const ignore = () => undefined;
  // HUP too (the terminal closed): steps run in process groups of their own, which nothing else stops.
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  process.on("SIGUSR1", ignore);
  const nameWidth = Math.max(...pipeline.steps.map((s) => s.name.length));
  let run: RunResult;
  try {
    run = await runPipeline(pipeline, {
      executor: localExecutor({ cwd: dir, out: process.stdout, env: process.env, nameWidth, graceMs: grace }),
      pauser: consolePauser(),
      ...(branch === undefined ? {} : { branch }),
      pauseOnFailure: parsed.values["pause-on-failure"] ?? false,
      baseEnv: { CI: "true", KILN: "true", ...(branch === undefined ? {} : { KILN_BRANCH: branch }) },
      cancel: cancel.signal,
      graceMs: grace,
      onStep: ({ record }) => {
        if (record.phase === "Running") console.error(`▶ ${record.name}`);
      },
    });
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    process.off("SIGUSR1", ignore);
  }
  console.error(`\n${summaryTable(run.steps)}`);
  const f = run.failedStep;
  switch (run.outcome) {
    case "Succeeded":
      console.error("kiln run: the pipeline succeeded");
      return 0;
    case "Failed":
      console.error(`kiln run: step "${f?.name}" failed with exit code ${f?.exitCode}`);
      return 1;
    case "TimedOut":
      console.error(`kiln run: ${f ? `step "${f.name}" ` : "the pipeline "}timed out`);
      return 1;
    case "Cancelled":
      console.error(`kiln run: cancelled${f ? ` during step "${f.name}"` : ""}`);
      return 130;
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      file: { type: "string", short: "f" },
      branch: { type: "string", short: "b" },
      "pause-on-failure": { type: "boolean" },
      grace: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** What differs from a build pod, said once. */
export function localNotes(pipeline: Pipeline): string[] {
  const notes: string[] = [];
  if (pipeline.image) notes.push(`image ${pipeline.image} is ignored locally: steps run in your shell`);
  if (pipeline.services.length) {
    const names = pipeline.services.map((s) => s.name).join(", ");
    notes.push(`services are not started locally (${names}): start them yourself if steps need them`);
  }
  if (pipeline.cache) notes.push("cache is not applied (not implemented yet)");
  if (pipeline.secrets.length) notes.push("secrets are not provided locally: export them in your shell");
  return notes;
}

function currentBranch(dir: string): string | undefined {
  try {
    const out = execFileSync("git", ["-C", dir, "symbolic-ref", "--quiet", "--short", "HEAD"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    return out.toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A pause in local mode: Enter on a terminal or SIGUSR1 resumes; it ends by itself at its deadline. */
function consolePauser(): Pauser {
  return {
    message: ({ name, deadline, reason }) =>
      `${reason} Paused at "${name}": press Enter (or kill -USR1 ${process.pid}) to continue, Ctrl-C to stop; ` +
      `the pause ends by itself at ${new Date(deadline).toLocaleTimeString()}.`,
    wait: ({ message, deadline }, abort) =>
      new Promise((resolvePause) => {
        const stdin = process.stdin;
        const done = (outcome: "resumed" | "deadline") => {
          clearTimeout(timer);
          process.off("SIGUSR1", onUsr1);
          abort.removeEventListener("abort", onAbort);
          if (stdin.isTTY) {
            stdin.off("data", onData);
            stdin.pause();
          }
          resolvePause(outcome);
        };
        const onData = (chunk: Buffer) => chunk.includes(10) && done("resumed");
        const onUsr1 = () => done("resumed");
        const onAbort = () => done("deadline");
        const timer = setTimeout(() => done("deadline"), Math.max(0, deadline - Date.now()));
        process.on("SIGUSR1", onUsr1);
        abort.addEventListener("abort", onAbort);
        if (stdin.isTTY) {
          stdin.on("data", onData);
          stdin.resume();
        }
        // Said only once the handlers are in place, so a prompt reply cannot be missed.
        console.error(`⏸ ${message}`);
      }),
  };
}
