// `kiln fetch`: the build pod's init container. Shallow-fetches exactly one commit into the
// workspace and prepares the shared Kiln dir (runner script, FIFOs). A token, when given, goes to
// git through its environment as an http.extraHeader: never in the URL, the config file or the log.
import { execFile } from "node:child_process";
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { FIFOS, RUNNER_FILE, STEPS_DIR } from "../api/pod-protocol.ts";

const run = promisify(execFile);
export const RUNNER_SOURCE = join(import.meta.dirname, "runner.sh");

/** Env that makes git send `Authorization: Basic x-access-token:<token>` (GitHub's form) on every request. */
export function gitAuthEnv(token: string | undefined): Record<string, string> {
  if (!token) return {};
  const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
  return {
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.extraHeader",
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  };
}

export interface FetchCommitOptions {
  url: string;
  sha: string;
  workspace: string;
  token?: string;
}

/** git init + fetch --depth 1 <url> <sha> + checkout: exactly that commit, detached, no full clone. */
export async function fetchCommit(options: FetchCommitOptions): Promise<void> {
  if (!/^[0-9a-f]{40}$/.test(options.sha)) throw new Error(`not a full commit sha: ${options.sha}`);
  if (/^[a-z]+:\/\/[^/]*@/i.test(options.url)) throw new Error("the clone URL must not carry credentials");
  const env = { ...process.env, GIT_TERMINAL_PROMPT: "0" };
  const git = (args: string[], extraEnv: Record<string, string> = {}) =>
    run("git", ["-C", options.workspace, ...args], { env: { ...env, ...extraEnv }, maxBuffer: 16 << 20 });
  await mkdir(options.workspace, { recursive: true });
  await git(["init", "--quiet"]);
  // Only the fetch talks to the server; the checkout (the commit's own content) never has the token.
  await git(
    ["fetch", "--quiet", "--depth", "1", "--no-tags", options.url, options.sha],
    gitAuthEnv(options.token),
  );
  await git(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", "FETCH_HEAD"]);
}

/**
 * The runner and its FIFOs in the shared dir (idempotent: an init container may run twice). `fifoMode`:
 * kiln run --image has no fsGroup to share, so there any user may open them (in a private directory).
 */
export async function prepareKilnDir(kilnDir: string, fifoMode = "0660"): Promise<void> {
  await mkdir(join(kilnDir, STEPS_DIR), { recursive: true });
  await copyFile(RUNNER_SOURCE, join(kilnDir, RUNNER_FILE));
  const fifos = Object.values(FIFOS).map((f) => join(kilnDir, f));
  await Promise.all(fifos.map((f) => rm(f, { force: true })));
  // Node has no mkfifo(3); the Kiln image has coreutils.
  // 0660: the build container runs as another user (often root without capabilities); it shares the
  // pod's fsGroup, which owns the volume (setgid), so group access is what lets the runner open them.
  await run("mkfifo", ["-m", fifoMode, ...fifos]);
}

const USAGE =
  "Usage: kiln fetch --url <clone URL> --sha <commit> --workspace <dir> --kiln-dir <dir> [--token-file <file>]";

export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(
      `${USAGE}\n\nThe build pod's init container: shallow-fetches one commit into the workspace and sets up the kiln dir.`,
    );
    return 0;
  }
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(args).values;
  } catch (error) {
    console.error(`kiln fetch: ${(error as Error).message}`);
    return 2;
  }
  const { url, sha, workspace, "kiln-dir": kilnDir, "token-file": tokenFile } = values;
  if (!url || !sha || !workspace || !kilnDir) {
    console.error(USAGE);
    return 2;
  }
  try {
    // Group-writable checkout: the build container's user differs and writes through the fsGroup.
    process.umask(0o002);
    const token = tokenFile ? (await readFile(tokenFile, "utf8")).trim() : undefined;
    await fetchCommit({ url, sha, workspace, ...(token ? { token } : {}) });
    await prepareKilnDir(kilnDir);
    console.log(`kiln fetch: ${sha} of ${url} is in ${workspace}`);
    return 0;
  } catch (error) {
    // git's stderr names the URL and the problem, never the header.
    const e = error as { stderr?: string; message: string };
    console.error(`kiln fetch: ${(e.stderr ?? "").trim() || e.message}`);
    return 1;
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      url: { type: "string" },
      sha: { type: "string" },
      workspace: { type: "string" },
      "kiln-dir": { type: "string" },
      "token-file": { type: "string" },
    },
  });
}
