// `kiln run [dir]`: runs the .kiln.yaml of dir on this machine, to debug a pipeline without a cluster:
// in the local shell, or with --image in the pipeline's image beside its services (image-run.ts).
// Exit codes: 0 success, 1 a step failed or timed out, 2 invalid manifest or usage (no engine for
// --image), 125 the containers could not be set up, 130 cancelled.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_BRANCH, resolveCachePath } from "../api/cache.ts";
import { parseDuration } from "../api/duration.ts";
import { EXIT } from "../api/pod-protocol.ts";
import { BuildCache } from "./cache.ts";
import { chooseEngine, ENGINES, onPath } from "./engine.ts";
import { type ImagePod, SETUP_FAILED, startImagePod } from "./image-run.ts";
import { defaultCacheDir, localCacheStore, repositoryCacheDir } from "./local-cache.ts";
import { localExecutor } from "./local-executor.ts";
import { formatError, parsePipeline } from "./manifest.ts";
import type { Pipeline } from "./manifest-schema.ts";
import { DEFAULT_GRACE_MS, type Executor, type Pauser, type RunResult, runPipeline } from "./pipeline-run.ts";
import { summaryTable } from "./summary.ts";

const USAGE = `Usage: kiln run [dir] [options]

Runs the pipeline in dir/.kiln.yaml on this machine: in your shell, or with --image in the pipeline's
image with its services beside it, as in the build pod.

Options:
  -f, --file <path>       manifest path relative to dir (default .kiln.yaml)
  -b, --branch <name>     branch for steps' when.branches (default: dir's current git branch)
      --image             run the steps in the pipeline's image, its services beside them
      --engine <name>     for --image (implies it): ${ENGINES.join(", ")} (default: docker, else podman)
      --pause-on-failure  pause at a failed step until Enter (or SIGUSR1), as builds can in a pod
      --grace <duration>  time between TERM and KILL when stopping a step (default 5s)
      --cache-dir <dir>   where cache: archives are kept, a folder per repository directory
                          (default $XDG_CACHE_HOME/kiln, else ~/.cache/kiln)
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
  const inImage = parsed.values.image === true || parsed.values.engine !== undefined;
  let engine: ReturnType<typeof chooseEngine> | undefined;
  if (inImage) {
    engine = chooseEngine(parsed.values.engine, (command) => onPath(command), process.getuid?.() === 0);
    if (!engine.ok) {
      console.error(`kiln run: ${engine.message}`);
      return 2;
    }
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
  if (inImage && !pipeline.image) {
    console.error(`kiln run: --image runs the pipeline's image, and ${file} names none (image: …)`);
    return 2;
  }
  for (const note of localNotes(pipeline, inImage ? "image" : "shell", process.env))
    console.error(`kiln run: ${note}`);
  const secrets = localSecrets(pipeline, process.env);
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
  try {
    let pod: ImagePod | undefined;
    let executor: Executor;
    if (engine?.ok) {
      const started = await startImagePod({
        dir,
        pipeline: { ...pipeline, image: pipeline.image! },
        engine: engine.engine,
        out: process.stdout,
        say: (line) => console.error(`kiln run: ${line}`),
        cancel: cancel.signal,
        graceMs: grace,
        secrets,
      });
      if (!started.ok) {
        console.error(`kiln run: ${started.message}`);
        return started.cancelled ? EXIT.cancelled : SETUP_FAILED;
      }
      pod = started.pod;
      executor = pod.executor;
    } else {
      const nameWidth = Math.max(...pipeline.steps.map((s) => s.name.length));
      executor = localExecutor({
        cwd: dir,
        out: process.stdout,
        env: process.env,
        nameWidth,
        graceMs: grace,
        secrets: secrets.map(([, value]) => value),
      });
    }
    const cache = pipeline.cache
      ? await BuildCache.open({
          spec: pipeline.cache,
          dirs: { workspace: dir, ...(pod && { outside: pod.cacheDir }) },
          store: localCacheStore(
            repositoryCacheDir(resolve(parsed.values["cache-dir"] ?? defaultCacheDir()), dir),
            branch,
          ),
          say: (line) => console.error(`kiln run: ${line}`),
          // The image's user shares no group with this one; those directories are the run's own.
          ...(pod && { shareOutside: "everyone" as const }),
        }).catch((error: Error) => {
          console.error(`kiln run: cache: not used: ${error.message}`);
          return undefined;
        })
      : undefined;
    await cache?.restore(branch, defaultBranch(dir), cancel.signal);
    let run: RunResult;
    try {
      run = await runPipeline(pipeline, {
        executor,
        pauser: consolePauser(pod?.shell),
        ...(branch === undefined ? {} : { branch }),
        pauseOnFailure: parsed.values["pause-on-failure"] ?? false,
        baseEnv: { CI: "true", KILN: "true", ...(branch === undefined ? {} : { KILN_BRANCH: branch }) },
        cancel: cancel.signal,
        graceMs: grace,
        onStep: ({ record }) => {
          if (record.phase === "Running") console.error(`▶ ${record.name}`);
        },
      });
    } catch (error) {
      await pod?.finish(SETUP_FAILED);
      console.error(`kiln run: the pipeline could not run: ${(error as Error).message}`);
      return SETUP_FAILED;
    }
    if (run.outcome === "Succeeded") await cache?.save({ fork: false, branch }, cancel.signal);
    const { code, message } = verdict(run);
    await pod?.finish(code);
    console.error(`\n${summaryTable(run.steps)}`);
    console.error(`kiln run: ${message}`);
    return code;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    process.off("SIGUSR1", ignore);
  }
}

function verdict(run: RunResult): { code: number; message: string } {
  const f = run.failedStep;
  switch (run.outcome) {
    case "Succeeded":
      return { code: EXIT.succeeded, message: "the pipeline succeeded" };
    case "Failed":
      return { code: EXIT.failed, message: `step "${f?.name}" failed with exit code ${f?.exitCode}` };
    case "TimedOut":
      return { code: EXIT.failed, message: `${f ? `step "${f.name}" ` : "the pipeline "}timed out` };
    case "Cancelled":
      return { code: EXIT.cancelled, message: `cancelled${f ? ` during step "${f.name}"` : ""}` };
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      file: { type: "string", short: "f" },
      branch: { type: "string", short: "b" },
      image: { type: "boolean" },
      engine: { type: "string" },
      "pause-on-failure": { type: "boolean" },
      grace: { type: "string" },
      "cache-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/**
 * The pipeline's secrets as kiln run has them: each from the variable of the same name in its own
 * environment (`NPM_TOKEN=… kiln run`); unset ones stay unset (localNotes says so).
 */
export function localSecrets(pipeline: Pipeline, env: NodeJS.ProcessEnv): [string, string][] {
  return pipeline.secrets.flatMap((s) => {
    const value = env[s.env];
    return value === undefined ? [] : [[s.env, value] as [string, string]];
  });
}

/** What differs from a build pod, said once. */
export function localNotes(pipeline: Pipeline, mode: "shell" | "image", env: NodeJS.ProcessEnv): string[] {
  const notes: string[] = [];
  if (mode === "shell") {
    if (pipeline.image)
      notes.push(`image ${pipeline.image} is ignored: steps run in your shell (--image runs them in it)`);
    if (pipeline.user) notes.push("user: is ignored: steps run as you");
    if (pipeline.services.length) {
      const names = pipeline.services.map((s) => s.name).join(", ");
      notes.push(`services are not started (${names}): start them yourself, or use --image`);
    }
  } else if (pipeline.resources || pipeline.services.some((s) => s.resources)) {
    notes.push("resources: are not applied (no requests or limits locally)");
  }
  if (mode === "shell" && pipeline.cache?.paths.some((p) => resolveCachePath(p).workspace === undefined))
    notes.push(
      "cache: paths outside the workspace are your machine's own in your shell: not cached (--image caches them)",
    );
  const unset = pipeline.secrets.filter((s) => env[s.env] === undefined).map((s) => s.env);
  if (unset.length) {
    const one = unset.length === 1;
    notes.push(
      `secrets: ${unset.join(", ")} ${one ? "is" : "are"} not set in kiln run's environment, so ${one ? "it stays" : "they stay"} ` +
        `unset in the steps (secrets come from variables of the same name: ${unset[0]}=… kiln run)`,
    );
  }
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

/** The default branch of dir's origin (refs/remotes/origin/HEAD), else DEFAULT_BRANCH. */
function defaultBranch(dir: string): string {
  try {
    const out = execFileSync(
      "git",
      ["-C", dir, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    return (
      out
        .toString()
        .trim()
        .replace(/^origin\//, "") || DEFAULT_BRANCH
    );
  } catch {
    return DEFAULT_BRANCH;
  }
}

/**
 * A pause of kiln run: Enter on a terminal or SIGUSR1 resumes; it ends by itself at its deadline. With
 * --image, the message says how to get a shell in the build container.
 */
function consolePauser(shell?: string): Pauser {
  return {
    message: ({ name, deadline, reason }) =>
      `${reason} Paused at "${name}": ${shell ? `a shell in the build container: ${shell}; ` : ""}` +
      `press Enter (or kill -USR1 ${process.pid}) to continue, Ctrl-C to stop; ` +
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
