// Which commit `kiln build <repository> [branch|tag|sha]` builds. A full sha is built as it is; a branch or
// tag is looked up with `git ls-remote` of the Repository's clone URL, with the person's own git
// credentials (their credential helper, SSH agent …): whoever may clone the repository can resolve its
// branches, and nobody needs to read the CI's token Secret, which people with kubectl access rarely may
// and should not have to. Nothing given: the repository's default branch (the remote HEAD).
import { execFile } from "node:child_process";
import { CliError } from "./errors.ts";

export interface Target {
  sha: string;
  branch?: string;
  tag?: string;
}

const SHA = /^[0-9a-f]{40}$/;

export interface RemoteRefs {
  /** Full ref name → commit (an annotated tag as the commit it points at). */
  refs: Map<string, string>;
  /** What HEAD points at (--symref), such as refs/heads/main. */
  head?: string;
}

/** `git ls-remote [--symref]` output. Pure. */
export function parseLsRemote(text: string): RemoteRefs {
  const refs = new Map<string, string>();
  let head: string | undefined;
  const peeled = new Map<string, string>();
  for (const line of text.split("\n")) {
    const symref = /^ref: (\S+)\tHEAD$/.exec(line);
    if (symref) {
      head = symref[1];
      continue;
    }
    const m = /^([0-9a-f]{40})\t(\S+)$/.exec(line);
    if (!m) continue;
    if (m[2]!.endsWith("^{}")) peeled.set(m[2]!.slice(0, -3), m[1]!);
    else refs.set(m[2]!, m[1]!);
  }
  for (const [ref, sha] of peeled) refs.set(ref, sha);
  return { refs, ...(head ? { head } : {}) };
}

/** The refs to ask the remote for, to resolve `wanted` (undefined: the default branch). */
export function refPatterns(wanted: string | undefined): string[] {
  if (wanted === undefined) return ["HEAD"];
  if (wanted.startsWith("refs/")) return [wanted, `${wanted}^{}`];
  return [`refs/heads/${wanted}`, `refs/tags/${wanted}`, `refs/tags/${wanted}^{}`];
}

function target(ref: string, sha: string): Target {
  if (ref.startsWith("refs/heads/")) return { sha, branch: ref.slice("refs/heads/".length) };
  if (ref.startsWith("refs/tags/")) return { sha, tag: ref.slice("refs/tags/".length) };
  return { sha };
}

/** What `wanted` names among the remote's refs: a branch before a tag of the same name. Pure. */
export function pickTarget(wanted: string | undefined, remote: RemoteRefs, url: string): Target {
  if (wanted === undefined) {
    const sha = remote.refs.get("HEAD") ?? (remote.head ? remote.refs.get(remote.head) : undefined);
    if (!sha) throw new CliError(`${url} has no default branch (HEAD): name a branch or a commit`);
    return remote.head ? target(remote.head, sha) : { sha };
  }
  for (const ref of wanted.startsWith("refs/") ? [wanted] : [`refs/heads/${wanted}`, `refs/tags/${wanted}`]) {
    const sha = remote.refs.get(ref);
    if (sha) return target(ref, sha);
  }
  const hint = /^[0-9a-f]{4,39}$/.test(wanted)
    ? " (a commit is given by its full 40-character sha: a short one cannot be looked up remotely)"
    : "";
  throw new CliError(`${url} has no branch or tag "${wanted}"${hint}`);
}

export const isFullSha = (text: string) => SHA.test(text);

/**
 * The clone URL comes from the cluster (a Repository anyone with that right may write) and git runs on the
 * person's machine: only plain transports, never an option (`--upload-pack=…`) or `ext::` (a command).
 */
export function checkCloneURL(url: string): void {
  const plain = /^(https?|ssh|git|file):\/\//.test(url) || /^[A-Za-z0-9._~-]+@[A-Za-z0-9.-]+:[^:]/.test(url);
  if (!plain || url.startsWith("-"))
    throw new CliError(
      `the Repository's clone URL "${url}" is not an http(s), ssh, git or file URL: not running git on it`,
    );
}

/**
 * `git ls-remote` of the clone URL. On a terminal git may ask for credentials as it does for a clone;
 * otherwise it fails instead of waiting for an answer nobody can give.
 */
export function lsRemote(url: string, patterns: string[], interactive: boolean): Promise<string> {
  checkCloneURL(url);
  const args = ["-c", "protocol.ext.allow=never", "ls-remote"];
  args.push(...(patterns[0] === "HEAD" ? ["--symref"] : []), "--", url, ...patterns);
  const env = { ...process.env, ...(interactive ? {} : { GIT_TERMINAL_PROMPT: "0" }) };
  return new Promise((resolve, reject) => {
    execFile("git", args, { env, timeout: 120_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      if ((error as NodeJS.ErrnoException).code === "ENOENT")
        return reject(new CliError("git is not installed here: give the full commit sha to build instead"));
      const said = stderr.trim().split("\n").slice(-3).join("; ");
      reject(new CliError(`git ls-remote ${url} failed: ${said || error.message}`));
    });
  });
}

/** The commit to build: a full sha as it is, else what the Repository's remote says `wanted` is. */
export async function resolveTarget(
  wanted: string | undefined,
  url: string,
  interactive: boolean,
): Promise<Target> {
  if (wanted !== undefined && isFullSha(wanted)) return { sha: wanted };
  const remote = parseLsRemote(await lsRemote(url, refPatterns(wanted), interactive));
  return pickTarget(wanted, remote, url);
}
