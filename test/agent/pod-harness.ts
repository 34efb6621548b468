// A build pod without Kubernetes, for tests and benches: temp /workspace and /kiln dirs, the runner
// under a chosen shell (as the build container), and the agent in this process.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { AgentConfig } from "../../agent/agent-command.ts";
import { prepareKilnDir } from "../../agent/fetch.ts";
import { RUNNER_ENV, RUNNER_FILE } from "../../api/pod-protocol.ts";

export interface PodDirs {
  base: string;
  kilnDir: string;
  workspace: string;
  cleanup(): void;
}

export async function podDirs(manifest?: string): Promise<PodDirs> {
  const base = mkdtempSync(join(tmpdir(), "kiln-pod-"));
  const kilnDir = join(base, "kiln");
  const workspace = join(base, "workspace");
  mkdirSync(workspace);
  await prepareKilnDir(kilnDir);
  if (manifest !== undefined) writeFileSync(join(workspace, ".kiln.yaml"), manifest);
  return { base, kilnDir, workspace, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export interface RunnerProcess {
  child: ChildProcess;
  /** The build container's log so far. */
  log(): string;
  exited: Promise<number | null>;
  /** SIGKILL to the runner's whole group (test cleanup, as the kubelet ending the container). */
  killAll(): void;
}

/** Starts the runner as the build container would (`sh /kiln/runner.sh`), under `shell`. */
export function startRunner(
  dirs: PodDirs,
  shell: string[],
  options: { captureLog?: boolean; env?: Record<string, string> } = {},
): RunnerProcess {
  const [cmd, ...args] = shell;
  const child = spawn(cmd!, [...args, join(dirs.kilnDir, RUNNER_FILE)], {
    env: {
      // The build container's own env (its secretKeyRef variables, say).
      ...options.env,
      PATH: process.env.PATH,
      [RUNNER_ENV.kilnDir]: dirs.kilnDir,
      [RUNNER_ENV.workspace]: dirs.workspace,
    },
    stdio: ["ignore", options.captureLog === false ? "ignore" : "pipe", "pipe"],
    // A container's PID 1 leads its own process group; the runner relies on that to stop steps.
    detached: true,
  });
  let log = "";
  child.stdout?.on("data", (d) => {
    log += d;
  });
  child.stderr?.on("data", (d) => {
    log += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const killAll = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  };
  return { child, log: () => log, exited, killAll };
}

/** One test's pod: dirs holding `manifest` and the runner under `shell`, both cleaned up after the test. */
export async function startPod(
  t: Pick<TestContext, "after">,
  manifest: string,
  shell: string[],
  env?: Record<string, string>,
): Promise<{ dirs: PodDirs; runner: RunnerProcess }> {
  const dirs = await podDirs(manifest);
  const runner = startRunner(dirs, shell, env ? { env } : {});
  t.after(runner.killAll);
  t.after(dirs.cleanup);
  return { dirs, runner };
}

/** The agent's configuration for a pod in `dirs` (what `kiln agent` would read from its env). */
export function agentConfig(dirs: PodDirs, extra: Partial<AgentConfig> = {}): AgentConfig {
  return {
    build: "api-main-1",
    namespace: "ci",
    pod: "api-main-1-pod",
    manifest: ".kiln.yaml",
    branch: "main",
    pauseOnFailure: false,
    fork: false,
    repository: "api",
    defaultBranch: "main",
    cacheDir: join(dirs.base, "kiln-cache"),
    store: undefined,
    secretsDir: join(dirs.kilnDir, "no-secrets"),
    kilnDir: dirs.kilnDir,
    workspace: dirs.workspace,
    ...extra,
  };
}

export const SHELLS: { name: string; argv: string[] }[] = [
  { name: "dash", argv: ["dash"] },
  { name: "busybox sh", argv: ["busybox", "sh"] },
];
