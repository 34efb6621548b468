// The fake's git hosting: bare repositories on disk, read with the real git. What a push changed
// (refs, new commits, the facts of its push event) and file contents at a commit come from the pushed
// objects themselves, so the REST API answers what was really pushed.
import { execFile } from "node:child_process";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { type PushedCommit, type PushFacts, type RefUpdate, ZERO_SHA } from "./push-event.ts";

const exec = promisify(execFile);
const MAX_BUFFER = 64 << 20;

async function git(dir: string, args: string[], input?: string): Promise<string> {
  const child = exec("git", ["-C", dir, ...args], { maxBuffer: MAX_BUFFER, encoding: "utf8" });
  if (input !== undefined) child.child.stdin!.end(input);
  return (await child).stdout;
}

/** Whether git answers 0 (true) or 1 (false); anything else is an error. */
async function gitTest(dir: string, args: string[]): Promise<boolean> {
  try {
    await exec("git", ["-C", dir, ...args]);
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 1) return false;
    throw error;
  }
}

// GitHub refuses to delete the default branch ("refusing to delete the current branch"); a bare
// repository's receive-pack would not, so a pre-receive hook does.
const PRE_RECEIVE = `#!/bin/sh
head=$(git symbolic-ref -q HEAD)
while read old new ref; do
  if [ "$ref" = "$head" ] && [ "$new" = "${ZERO_SHA}" ]; then
    echo "error: refusing to delete the current branch: $ref" >&2
    exit 1
  fi
done
`;

/** A new, empty bare repository whose HEAD names `defaultBranch`. */
export async function initBare(dir: string, defaultBranch: string): Promise<void> {
  await exec("git", ["init", "-q", "--bare", `--initial-branch=${defaultBranch}`, dir]);
  const hook = join(dir, "hooks", "pre-receive");
  await writeFile(hook, PRE_RECEIVE);
  await chmod(hook, 0o755);
}

export async function setHead(dir: string, branch: string): Promise<void> {
  await git(dir, ["symbolic-ref", "HEAD", `refs/heads/${branch}`]);
}

export interface Refs {
  /** Ref name → the object it names (a tag object for an annotated tag). */
  refs: Map<string, string>;
  /** Ref name → the commit it comes to (an annotated tag's target). */
  commits: Map<string, string>;
}

export async function readRefs(dir: string): Promise<Refs> {
  const out = await git(dir, ["for-each-ref", "--format=%(objectname) %(*objectname) %(refname)"]);
  const refs = new Map<string, string>();
  const commits = new Map<string, string>();
  for (const line of out.split("\n").filter(Boolean)) {
    const [object, peeled, ref] = line.split(" ") as [string, string, string];
    refs.set(ref, object);
    commits.set(ref, peeled || object);
  }
  return { refs, commits };
}

/** Commits reachable from `from` but from none of `not`, newest first (at most `max`). */
async function revList(dir: string, from: string[], not: string[], max?: number): Promise<string[]> {
  if (from.length === 0) return [];
  const args = ["rev-list", ...(max ? [`--max-count=${max}`] : []), "--stdin"];
  const out = await git(dir, args, [...from, ...not.map((sha) => `^${sha}`)].join("\n"));
  return out.split("\n").filter(Boolean);
}

export interface GitCommit {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
  added: string[];
  removed: string[];
  modified: string[];
}

const FIELD = "\x1f";
const RECORD = "\x1e";

/** The commits' metadata and the files each changed (against its first parent), in the order asked. */
export async function readCommits(dir: string, shas: readonly string[]): Promise<GitCommit[]> {
  if (shas.length === 0) return [];
  const format = `${RECORD}${["%H", "%T", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B"].join(FIELD)}${FIELD}`;
  const out = await git(
    dir,
    [
      "log",
      "--no-walk=unsorted",
      "--stdin",
      `--format=${format}`,
      "--name-status",
      "--no-renames",
      "--diff-merges=first-parent",
    ],
    shas.join("\n"),
  );
  return out
    .split(RECORD)
    .filter(Boolean)
    .map((record) => {
      const [sha, tree, parents, an, ae, ad, cn, ce, cd, message, changes = ""] = record.split(FIELD) as [
        string,
        ...string[],
      ];
      const commit: GitCommit = {
        sha,
        tree: tree!,
        parents: parents!.split(" ").filter(Boolean),
        message: message!.replace(/\n+$/, ""),
        author: { name: an!, email: ae!, date: ad! },
        committer: { name: cn!, email: ce!, date: cd! },
        added: [],
        removed: [],
        modified: [],
      };
      for (const line of changes.split("\n").filter(Boolean)) {
        const [status, path] = line.split("\t") as [string, string];
        const list = status === "A" ? commit.added : status === "D" ? commit.removed : commit.modified;
        list.push(path);
      }
      return commit;
    });
}

/** The commits a push brought: those reachable from its new refs and from no ref before it. */
export async function newCommits(dir: string, before: Refs, after: Refs): Promise<GitCommit[]> {
  const shas = await revList(dir, [...new Set(after.commits.values())], [...new Set(before.refs.values())]);
  return readCommits(dir, shas);
}

function pushed(commit: GitCommit, distinct: boolean): PushedCommit {
  return {
    sha: commit.sha,
    tree: commit.tree,
    message: commit.message,
    timestamp: commit.author.date,
    author: { name: commit.author.name, email: commit.author.email },
    committer: { name: commit.committer.name, email: commit.committer.email },
    added: commit.added,
    removed: commit.removed,
    modified: commit.modified,
    distinct,
  };
}

/** What GitHub's push event says about one ref update, read from the repository after the push. */
export async function pushFacts(
  dir: string,
  update: RefUpdate,
  before: Refs,
  after: Refs,
  maxCommits: number,
): Promise<PushFacts> {
  const firstPush = before.refs.size === 0;
  if (update.after === ZERO_SHA) return { update, commits: [], head: null, forced: false, firstPush };
  const head = after.commits.get(update.ref)!;
  const old = [...new Set(before.refs.values())];
  const fresh = new Set(await revList(dir, [head], old));
  const created = update.before === ZERO_SHA;
  // A new tag lists no commits; a new branch those new to the repository; a moved ref before..after.
  const listed = update.ref.startsWith("refs/tags/")
    ? []
    : (await revList(dir, [head], created ? old : [update.before], maxCommits)).reverse();
  const commits = await readCommits(dir, [...new Set([...listed, head])]);
  const byID = new Map(commits.map((c) => [c.sha, c]));
  const forced = !created && !(await gitTest(dir, ["merge-base", "--is-ancestor", update.before, head]));
  return {
    update,
    commits: listed.map((sha) => pushed(byID.get(sha)!, fresh.has(sha))),
    head: pushed(byID.get(head)!, fresh.has(head)),
    forced,
    firstPush,
  };
}

/** A file at a commit, with its blob sha; undefined when the path is no file there. */
export async function readFile(
  dir: string,
  commit: string,
  path: string,
): Promise<{ sha: string; content: Buffer } | undefined> {
  let sha: string;
  try {
    const [line] = (await git(dir, ["ls-tree", "-z", commit, "--", path])).split("\0");
    const match = /^\d+ blob ([0-9a-f]{40})\t/.exec(line ?? "");
    if (!match || !line!.endsWith(`\t${path}`)) return undefined;
    sha = match[1]!;
  } catch {
    return undefined;
  }
  const { stdout } = await exec("git", ["-C", dir, "cat-file", "blob", sha], {
    maxBuffer: MAX_BUFFER,
    encoding: "buffer",
  });
  return { sha, content: stdout };
}

/** The commit a revision (sha, abbreviation, ref name, `x^`) names; undefined when none. */
export async function resolveCommit(dir: string, rev: string): Promise<string | undefined> {
  if (rev.startsWith("-")) return undefined;
  try {
    return (
      await git(dir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`])
    ).trim();
  } catch {
    return undefined;
  }
}

/** The commits of `head` that `base` lacks, oldest first, as GitHub's compare base...head lists them. */
export async function compareCommits(
  dir: string,
  base: string,
  head: string,
  max = 250,
): Promise<GitCommit[]> {
  return readCommits(dir, (await revList(dir, [head], [base], max)).reverse());
}
