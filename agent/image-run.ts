// `kiln run --image`: the pipeline's steps in its image, its services beside them, on a developer's
// machine — the build pod without a cluster. The Kiln dir (runner, FIFOs) is made as `kiln fetch` makes
// it, the directory is the workspace, and `kiln run` plays the agent: the same runner, step scripts and
// stop protocol as in a pod (RunnerLink). Services start in order, each one up (its readiness check, one
// try a second, as the pod's startup probe) before the next, and all before the first step.
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { cacheMounts } from "../api/cache.ts";
import { formatDuration } from "../api/duration.ts";
import { EXIT } from "../api/pod-protocol.ts";
import type { ContainerLog } from "../lib/container/process.ts";
import type { Engine, EngineName, RunningContainer } from "./engine.ts";
import { bwrapEngine } from "./engine-bwrap.ts";
import { dockerEngine } from "./engine-docker.ts";
import { prepareKilnDir } from "./fetch.ts";
import { type LocalPod, type LocalService, localPod } from "./local-pod.ts";
import type { Pipeline } from "./manifest-schema.ts";
import { Tail } from "./output.ts";
import { RunnerLink } from "./runner-link.ts";
import type { ReadyCheck } from "./services.ts";

/** Between two readiness checks, as the pod's startup probe (periodSeconds 1), and how long one may take. */
const CHECK_PERIOD_MS = 1000;
const CHECK_TIMEOUT_MS = 2000;

export interface ImagePodOptions {
  dir: string;
  pipeline: Pipeline & { image: string };
  engine: EngineName;
  /** The build container's log: every step's output under its `==> name` header. */
  out: NodeJS.WritableStream;
  /** Lines for the person running it. */
  say: (line: string) => void;
  cancel: AbortSignal;
  graceMs: number;
  /** The build container's secret variables; masked in the steps' output. */
  secrets?: [string, string][];
}

/** The containers could not be set up (an image or the engine failing, a service not up in time). */
export const SETUP_FAILED = 125;

export interface ImagePod {
  /** Runs the steps in the build container. */
  executor: RunnerLink;
  /** A shell in the build container (said at a pause). */
  shell: string;
  /** Where the cache paths outside the workspace are, as the agent sees them in a pod (CACHE_MOUNT_DIR). */
  cacheDir: string;
  /** Ends the runner with the pipeline's exit code, stops the services, removes the run's files. */
  finish(code: number): Promise<void>;
}

export type ImagePodResult = { ok: true; pod: ImagePod } | { ok: false; message: string; cancelled: boolean };

export async function startImagePod(options: ImagePodOptions): Promise<ImagePodResult> {
  const runId = randomBytes(4).toString("hex");
  // Private (0700); the Kiln dir in it is open to whatever user the containers run as.
  const runDir = mkdtempSync(join(tmpdir(), "kiln-run-"));
  const kilnDir = join(runDir, "kiln");
  await prepareKilnDir(kilnDir, "0666");
  chmodSync(kilnDir, 0o777);
  const secrets = options.secrets ?? [];
  // The pod's "cache" volume: a directory per cache path outside the workspace, open to the containers' user.
  const cacheDir = join(runDir, "cache");
  for (const m of cacheMounts(options.pipeline.cache?.paths ?? [])) {
    mkdirSync(join(cacheDir, m.subPath), { recursive: true });
    chmodSync(join(cacheDir, m.subPath), 0o777);
  }
  const pod = localPod(options.pipeline, { workspace: options.dir, kilnDir, cacheDir }, secrets);
  const engine = makeEngine(options.engine, runId, runDir, pod);
  const link = new RunnerLink({ kilnDir });
  link.maskSecrets(secrets.map(([, value]) => value));
  let finishing = false;
  let build: RunningContainer | undefined;
  let runnerUp = false;
  const teardown = async (code: number) => {
    finishing = true;
    if (build && runnerUp) {
      await link.exit(code, AbortSignal.timeout(options.graceMs));
      // The runner has its exit: let the build container end (and its log drain) before stopping the rest.
      await Promise.race([build.exited, sleep(options.graceMs, undefined, { ref: false })]);
    }
    link.close();
    await engine.close(options.graceMs);
    rmSync(runDir, { recursive: true, force: true });
  };
  const fail = async (message: string) => {
    await teardown(options.cancel.aborted ? EXIT.cancelled : SETUP_FAILED);
    return { ok: false as const, message, cancelled: options.cancel.aborted };
  };

  options.say(`starting ${pod.build.image} with ${options.engine}`);
  try {
    build = await engine.start(pod.build, {
      write: (stream, chunk) => (stream === "stdout" ? options.out : process.stderr).write(chunk),
    });
  } catch (error) {
    return fail(`the build container did not start: ${(error as Error).message}`);
  }
  const ready = await Promise.race([
    link.ready().then(
      () => "ready" as const,
      () => "gone" as const,
    ),
    build.exited.then((e) => e),
    aborted(options.cancel),
  ]);
  if (ready === "ready") runnerUp = true;
  if (ready === "cancelled") return fail("cancelled");
  if (ready !== "ready") {
    const why =
      ready === "gone" ? "its runner went away" : (ready.error ?? `it exited with ${ready.exitCode}`);
    return fail(`the build container did not start: ${why}`);
  }

  for (const service of pod.services) {
    const name = service.name.replace(/^service-/, "");
    const tail = new Tail();
    const log: ContainerLog = { write: (_stream, chunk) => tail.write(chunk) };
    let running: RunningContainer;
    try {
      running = await engine.start(service, log);
    } catch (error) {
      return fail(`service ${name} did not start: ${(error as Error).message}`);
    }
    let up = false;
    void running.exited.then((e) => {
      // A pod restarts a sidecar that ends; kiln run says so and goes on (the steps will show it).
      if (up && !finishing) options.say(`service ${name} exited with code ${e.exitCode}${logTail(tail)}`);
    });
    if (service.ready) {
      // A check that cannot even be made (the engine cannot say the port's address) fails the same way,
      // through fail(), so what was started is stopped.
      const problem = await waitReady(engine, running, service.ready, options.cancel).catch(
        (error: Error) => `could not be checked: ${error.message}`,
      );
      if (problem) return fail(`service ${name} ${problem}${logTail(tail)}`);
    }
    up = true;
    options.say(`service ${name} is up${describeReady(service)}`);
  }

  return {
    ok: true,
    pod: {
      executor: link,
      shell: build.shell,
      cacheDir,
      finish: teardown,
    },
  };
}

function makeEngine(name: EngineName, runId: string, runDir: string, pod: LocalPod): Engine {
  return name === "bwrap" ? bwrapEngine({ runDir, runId }) : dockerEngine(name, runId, pod);
}

function aborted(signal: AbortSignal): Promise<"cancelled"> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve("cancelled");
    signal.addEventListener("abort", () => resolve("cancelled"), { once: true });
  });
}

/** Checks until the service is up; what went wrong otherwise. */
async function waitReady(
  engine: Engine,
  service: RunningContainer,
  check: ReadyCheck,
  cancel: AbortSignal,
): Promise<string | undefined> {
  const deadline = Date.now() + check.timeoutMs;
  let ended: { exitCode: number } | undefined;
  void service.exited.then((e) => {
    ended = e;
  });
  for (;;) {
    if (cancel.aborted) return "was not waited for: cancelled";
    const up =
      "port" in check
        ? await connects(await engine.address(check.port))
        : (await service.exec(check.command, CHECK_TIMEOUT_MS)) === 0;
    if (up) return undefined;
    if (ended) return `exited with code ${ended.exitCode} before it was up`;
    if (Date.now() >= deadline) {
      const what =
        "port" in check
          ? `port ${check.port} accepted no connection`
          : `\`${check.command.at(-1)}\` did not succeed`;
      return `was not up after ${formatDuration(check.timeoutMs)}: ${what}`;
    }
    await sleep(CHECK_PERIOD_MS, undefined, { signal: cancel }).catch(() => undefined);
  }
}

function connects(address: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ ...address, timeout: CHECK_TIMEOUT_MS });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.on("connect", () => done(true));
    socket.on("timeout", () => done(false));
    socket.on("error", () => done(false));
  });
}

function describeReady(service: LocalService): string {
  if (!service.ready) return "";
  return "port" in service.ready ? ` (port ${service.ready.port})` : ` (\`${service.ready.command.at(-1)}\`)`;
}

function logTail(tail: Tail): string {
  const text = tail.text(10);
  return text ? `; its last output:\n${text}` : "";
}
