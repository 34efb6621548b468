// Pure: GitHub's push event. Which ref updates a push made (the refs before and after the
// receive-pack), and what the event says about each: created, deleted, forced, the compare link, the
// commits and the head commit, in the shape of @octokit/webhooks-examples' push payloads.

export const ZERO_SHA = "0".repeat(40);

/** GitHub lists at most this many commits in a push event (the Commits API has the rest). */
export const MAX_PUSH_COMMITS = 2048;

/** GitHub sends no push event for tags when one push carries more than this many tags. */
export const MAX_PUSHED_TAGS = 3;

export interface RefUpdate {
  /** The full ref name: refs/heads/main, refs/tags/v1. */
  ref: string;
  /** ZERO_SHA when the push created the ref. */
  before: string;
  /** ZERO_SHA when the push deleted the ref. */
  after: string;
}

/** The refs a push changed (ref name → object sha, before and after), in ref name order. */
export function refUpdates(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): RefUpdate[] {
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  return names.flatMap((ref) => {
    const was = before.get(ref) ?? ZERO_SHA;
    const now = after.get(ref) ?? ZERO_SHA;
    return was === now ? [] : [{ ref, before: was, after: now }];
  });
}

/** The updates GitHub delivers a push event for: branches always, tags only when at most three were pushed. */
export function deliveredUpdates(updates: readonly RefUpdate[]): RefUpdate[] {
  const tags = updates.filter((u) => u.ref.startsWith("refs/tags/"));
  return tags.length > MAX_PUSHED_TAGS ? updates.filter((u) => !tags.includes(u)) : [...updates];
}

export interface Person {
  name: string;
  email: string;
  /** The GitHub login of the person, when GitHub knows one for the email. */
  username?: string;
}

export interface PushedCommit {
  sha: string;
  tree: string;
  message: string;
  /** The author date, ISO 8601. */
  timestamp: string;
  author: Person;
  committer: Person;
  added: string[];
  removed: string[];
  modified: string[];
  /** Whether the commit is new to the repository (not reachable from any ref before the push). */
  distinct: boolean;
}

export interface PushFacts {
  update: RefUpdate;
  /** The commits the push brought to this ref, oldest first (for a new ref: those new to the repository). */
  commits: PushedCommit[];
  /** The commit the ref now names (a tag's target), or null when it was deleted. */
  head: PushedCommit | null;
  /** The ref moved to a commit that does not contain its old one. */
  forced: boolean;
  /** The repository had no refs before this push. */
  firstPush: boolean;
}

export interface PushContext {
  /** The repository's web address: https://github.com/<owner>/<name> on GitHub. */
  html: string;
  /** The event's `repository` object. */
  repository: Record<string, unknown>;
  pusher: { name: string; email: string };
  sender: Record<string, unknown>;
  /** A push payload of GitHub's own (fields this event does not set come from it). */
  template: Record<string, unknown>;
}

const isZero = (sha: string) => sha === ZERO_SHA;
const short = (sha: string) => sha.slice(0, 12);
const refName = (ref: string) => ref.replace(/^refs\/(heads|tags)\//, "");

/** GitHub's compare link of a push: the commit of a first push, the new ref's name, or before...after. */
export function compareURL(html: string, update: RefUpdate, firstPush: boolean): string {
  if (isZero(update.before))
    return firstPush && update.ref.startsWith("refs/heads/")
      ? `${html}/commit/${update.after}`
      : `${html}/compare/${refName(update.ref)}`;
  return `${html}/compare/${short(update.before)}...${short(update.after)}`;
}

function commitJSON(commit: PushedCommit, html: string) {
  return {
    id: commit.sha,
    tree_id: commit.tree,
    distinct: commit.distinct,
    message: commit.message,
    timestamp: commit.timestamp,
    url: `${html}/commit/${commit.sha}`,
    author: { ...commit.author },
    committer: { ...commit.committer },
    added: [...commit.added],
    removed: [...commit.removed],
    modified: [...commit.modified],
  };
}

/** The push event's payload for one ref update. */
export function pushPayload(facts: PushFacts, context: PushContext): Record<string, unknown> {
  const { update } = facts;
  const created = isZero(update.before);
  const deleted = isZero(update.after);
  return {
    ...context.template,
    ref: update.ref,
    before: update.before,
    after: update.after,
    repository: context.repository,
    pusher: { ...context.pusher },
    sender: context.sender,
    created,
    deleted,
    forced: !created && !deleted && facts.forced,
    base_ref: null,
    compare: compareURL(context.html, update, facts.firstPush),
    commits: deleted ? [] : facts.commits.slice(-MAX_PUSH_COMMITS).map((c) => commitJSON(c, context.html)),
    head_commit: deleted || facts.head === null ? null : commitJSON(facts.head, context.html),
  };
}
