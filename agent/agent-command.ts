// `kiln agent`: the build pod's sidecar. Reads .kiln.yaml from the workspace, hands the steps one by
// one to the runner in the build container, enforces deadlines, handles pauses, and records every
// step in Build.status.steps. Exits (and makes the runner exit) 0 on success, 1 on failure, 2 on an
// invalid manifest, 130 when cancelled (SIGTERM: the pod is being deleted).
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { z } from "zod";
import type { StepStatus } from "../api/build.ts";
import { CACHE_MOUNT_DIR, DEFAULT_BRANCH } from "../api/cache.ts";
import {
  AGENT_ENV,
  EXIT,
  KILN_DIR,
  MANIFEST_STEP,
  SECRETS_DIR,
  STORE_TOKEN_FILE,
  TERMINATION_MESSAGE_PATH,
  WORKSPACE_DIR,
} from "../api/pod-protocol.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { type StoreClient, storeClientFor } from "../lib/store-client.ts";
import { BuildCache, type CacheSpec, remoteCacheStore } from "./cache.ts";
import { formatError, parsePipeline } from "./manifest.ts";
import type { Pipeline } from "./manifest-schema.ts";
import { Masker } from "./mask.ts";
import { type RunResult, runPipeline } from "./pipeline-run.ts";
import { annotationResume, podPauser, type ResumeSignal } from "./pod-pauser.ts";
import { RunnerLink } from "./runner-link.ts";
import { buildStatusPatcher, type StatusPatcher, StatusReporter } from "./status-reporter.ts";
import { StepLogs } from "./step-logs.ts";

const flag = z
  .enum(["true", "false", ""])
  .default("false")
  .transform((v) => v === "true");

export const agentConfig = z
  .object({
    [AGENT_ENV.buildName]: z.string().min(1),
    [AGENT_ENV.namespace]: z.string().min(1),
    [AGENT_ENV.podName]: z.string().min(1),
    [AGENT_ENV.manifest]: z.string().min(1).default(".kiln.yaml"),
    [AGENT_ENV.branch]: z.string().optional(),
    [AGENT_ENV.pauseOnFailure]: flag,
    [AGENT_ENV.fork]: flag,
    [AGENT_ENV.repository]: z.string().optional(),
    [AGENT_ENV.defaultBranch]: z.string().min(1).default(DEFAULT_BRANCH),
    [AGENT_ENV.cacheDir]: z.string().min(1).default(CACHE_MOUNT_DIR),
    [AGENT_ENV.storeURL]: z.url().optional(),
    [AGENT_ENV.storeTokenFile]: z.string().min(1).default(STORE_TOKEN_FILE),
    [AGENT_ENV.secretsDir]: z.string().min(1).default(SECRETS_DIR),
    [AGENT_ENV.kilnDir]: z.string().min(1).default(KILN_DIR),
    [AGENT_ENV.workspace]: z.string().min(1).default(WORKSPACE_DIR),
  })
  .transform((e) => {
    const storeURL = e[AGENT_ENV.storeURL];
    return {
      build: e[AGENT_ENV.buildName],
      namespace: e[AGENT_ENV.namespace],
      pod: e[AGENT_ENV.podName],
      manifest: e[AGENT_ENV.manifest],
      branch: e[AGENT_ENV.branch] || undefined,
      pauseOnFailure: e[AGENT_ENV.pauseOnFailure],
      fork: e[AGENT_ENV.fork],
      repository: e[AGENT_ENV.repository] || undefined,
      defaultBranch: e[AGENT_ENV.defaultBranch],
      cacheDir: e[AGENT_ENV.cacheDir],
      store: storeURL ? { url: storeURL, tokenFile: e[AGENT_ENV.storeTokenFile] } : undefined,
      secretsDir: e[AGENT_ENV.secretsDir],
      kilnDir: e[AGENT_ENV.kilnDir],
      workspace: e[AGENT_ENV.workspace],
    };
  });
export type AgentConfig = z.output<typeof agentConfig>;

/** How long the last status update may take before the agent exits anyway. */
const FLUSH_MS = 10_000;
/** How long the agent waits at the end for the store to take the rest of the logs. */
const LOG_SHIP_MS = 30_000;
/** Cancelled (the pod is being deleted, 30 s of grace): less. */
const CANCELLED_LOG_SHIP_MS = 5_000;

export interface AgentDeps {
  log: Logger;
  patch: StatusPatcher;
  resume?: ResumeSignal;
  cancel?: AbortSignal;
  graceMs?: number;
  /** Where to leave the one-line summary for the build controller (terminationMessagePath). */
  terminationLog?: string;
  /** `kiln store`, when the pod has one: step logs are shipped there, caches restored and saved. */
  store?: StoreClient;
}

export async function runAgent(config: AgentConfig, deps: AgentDeps): Promise<number> {
  const log = deps.log;
  const reporter = new StatusReporter({ patch: deps.patch, log });
  const logs = deps.store
    ? new StepLogs(deps.store, { namespace: config.namespace, build: config.build }, log)
    : undefined;
  const link = new RunnerLink({ kilnDir: config.kilnDir, ...(logs ? { logs } : {}) });
  // The secrets' values, once read: masked in steps' output (the pump) and in the agent's own words.
  let masker = new Masker([]);
  const finish = async (code: number, said: string) => {
    const summary = masker.maskText(said);
    await reporter.flush(FLUSH_MS);
    reporter.stop();
    // Bounded: a store that is away does not hold the pod up beyond this.
    await logs?.close(deps.cancel?.aborted ? CANCELLED_LOG_SHIP_MS : LOG_SHIP_MS);
    if (deps.terminationLog) await writeFile(deps.terminationLog, summary).catch(() => undefined);
    await link.exit(code, deps.cancel);
    link.close();
    log.info({ code, summary }, "agent done");
    return code;
  };

  const file = join(config.workspace, config.manifest);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const message = `cannot read ${config.manifest}: ${(error as NodeJS.ErrnoException).code ?? error}`;
    reporter.update([manifestFailure(message)]);
    return finish(EXIT.invalidManifest, message);
  }
  const parsed = parsePipeline(text, config.manifest);
  if (!parsed.ok) {
    const message = parsed.errors.map(formatError).join("\n");
    link.echo(`${message}\n`);
    reporter.update([manifestFailure(message)]);
    return finish(
      EXIT.invalidManifest,
      parsed.errors.length === 1 ? message : `${parsed.errors.length} errors in ${config.manifest}`,
    );
  }
  const pipeline = parsed.pipeline;
  if (pipeline.secrets.length && config.fork) log.warn("secrets are never given to builds of forks");
  const secrets = config.fork ? { values: [] } : await readSecrets(pipeline, config);
  if ("missing" in secrets) {
    link.echo(`${secrets.missing}\n`);
    reporter.update([manifestFailure(secrets.missing)]);
    return finish(EXIT.invalidManifest, secrets.missing);
  }
  masker = new Masker(secrets.values);
  link.maskSecrets(secrets.values);
  const report = (steps: StepStatus[]) =>
    reporter.update(steps.map((s) => (s.message ? { ...s, message: masker.maskText(s.message) } : s)));
  try {
    const cancelled = new Promise<"cancelled">((resolve) => {
      if (deps.cancel?.aborted) resolve("cancelled");
      deps.cancel?.addEventListener("abort", () => resolve("cancelled"), { once: true });
    });
    if ((await Promise.race([link.ready(), cancelled])) === "cancelled") {
      reporter.update(
        pipeline.steps.map((s) => ({ name: s.name, phase: "Cancelled", message: "cancelled before it ran" })),
      );
      return finish(EXIT.cancelled, "cancelled before the build container started");
    }
  } catch {
    reporter.update([]);
    return finish(EXIT.agentLost, "the build container's runner went away before the first step");
  }
  const cache = await openCache(config, deps, pipeline.cache, (said) => {
    // A path or an error may quote what a step wrote: masked like the steps' output.
    const line = masker.maskText(said);
    link.echo(`${line}\n`);
    log.info({ cache: line }, "cache");
  });
  await cache?.restore(config.branch, config.defaultBranch, deps.cancel);
  let result: RunResult;
  try {
    result = await runPipeline(pipeline, {
      executor: link,
      pauser: podPauser({
        kilnDir: config.kilnDir,
        namespace: config.namespace,
        build: config.build,
        pod: config.pod,
        log,
        ...(deps.resume ? { resume: deps.resume } : {}),
      }),
      onUpdate: report,
      onStep: ({ record }) =>
        log.info({ step: record.name, phase: record.phase, exitCode: record.exitCode }, "step"),
      ...(config.branch === undefined ? {} : { branch: config.branch }),
      pauseOnFailure: config.pauseOnFailure,
      baseEnv: {
        CI: "true",
        KILN: "true",
        KILN_BUILD: config.build,
        ...(config.branch ? { KILN_BRANCH: config.branch } : {}),
      },
      ...(deps.cancel ? { cancel: deps.cancel } : {}),
      ...(deps.graceMs === undefined ? {} : { graceMs: deps.graceMs }),
    });
  } catch (error) {
    const message = masker.maskText((error as Error).message);
    log.error({ err: message }, "the pipeline could not run");
    return finish(EXIT.agentLost, message);
  }
  if (result.outcome === "Succeeded")
    await cache?.save({ fork: config.fork, branch: config.branch }, deps.cancel);
  const f = result.failedStep;
  switch (result.outcome) {
    case "Succeeded":
      return finish(EXIT.succeeded, "all steps succeeded");
    case "Failed":
      return finish(EXIT.failed, `step ${f?.name} failed with exit code ${f?.exitCode}`);
    case "TimedOut":
      return finish(EXIT.failed, f ? `step ${f.name} timed out` : "the pipeline timed out");
    case "Cancelled":
      return finish(EXIT.cancelled, "cancelled");
  }
}

/**
 * The secrets' values from the agent's volume (SECRETS_DIR: the kubelet wrote them there), as exact
 * bytes. A file that is not there means the agent could not mask that value, so no step may run: the
 * volume is optional (a missing Secret fails the build container with CreateContainerConfigError first,
 * as a rule), and a Secret made between the volume's setup and the build container's start would
 * otherwise reach the steps unmasked.
 */
async function readSecrets(
  pipeline: Pipeline,
  config: AgentConfig,
): Promise<{ values: Buffer[] } | { missing: string }> {
  const values: Buffer[] = [];
  for (const [i, s] of pipeline.secrets.entries()) {
    try {
      values.push(await readFile(join(config.secretsDir, s.env)));
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? String(error);
      return {
        missing:
          `${config.manifest}: secrets[${i}] (${s.env}): key "${s.secretRef.key}" of Secret "${s.secretRef.name}" ` +
          `could not be read (${why}): is the Secret there, with that key? No step ran.`,
      };
    }
  }
  return { values };
}

/** The build's cache, when the pipeline has one and the pod a store (a note in the log when it has none). */
async function openCache(
  config: AgentConfig,
  deps: AgentDeps,
  spec: CacheSpec | undefined,
  say: (line: string) => void,
): Promise<BuildCache | undefined> {
  if (!spec) return undefined;
  if (!deps.store || !config.repository) {
    say("cache: not used (this cluster's Kiln has no store)");
    return undefined;
  }
  const store = remoteCacheStore(deps.store, { namespace: config.namespace, repository: config.repository });
  // Paths outside the workspace are there only when the pod mounted them (build-pod.ts).
  const outside = existsSync(config.cacheDir) ? config.cacheDir : undefined;
  // Hashing the files can fail (one unreadable): that is no reason to fail the build either.
  return BuildCache.open({
    spec,
    dirs: { workspace: config.workspace, ...(outside && { outside }) },
    store,
    say,
  }).catch((error: Error) => {
    say(`cache: not used: ${error.message}`);
    return undefined;
  });
}

function manifestFailure(message: string): StepStatus {
  const now = new Date().toISOString();
  return { name: MANIFEST_STEP, phase: "Failed", startTime: now, completionTime: now, message };
}

export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(
      `Usage: kiln agent\n\nThe build pod's sidecar; configured by the environment: ${Object.values(AGENT_ENV).join(", ")}.`,
    );
    return 0;
  }
  const env = agentConfig.safeParse(process.env);
  if (!env.success) {
    const missing = env.error.issues.map((i) => i.path.join(".")).join(", ");
    console.error(`kiln agent: missing or invalid environment: ${missing}`);
    return 2;
  }
  const config = env.data;
  const log = createLogger("agent").child({ namespace: config.namespace, name: config.build });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const cancel = new AbortController();
  const onSignal = () => cancel.abort();
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    return await runAgent(config, {
      log,
      patch: buildStatusPatcher(kubeConfig, config.namespace, config.build),
      resume: annotationResume(kubeConfig, config.namespace, config.build, log),
      cancel: cancel.signal,
      ...(config.store ? { store: storeClientFor(config.store) } : {}),
      ...(existsSync(TERMINATION_MESSAGE_PATH) ? { terminationLog: TERMINATION_MESSAGE_PATH } : {}),
    });
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}
