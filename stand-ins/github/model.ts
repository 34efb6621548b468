// The fake's state (repositories, branches, commits, hooks, deliveries, statuses) and the GitHub API
// objects built from it. Objects carry every field GitHub's schema requires; openapi.ts checks that.
import { createHash } from "node:crypto";

export type Permission = "read" | "write" | "admin";

export interface Commit {
  sha: string;
  message: string;
  author: { name: string; email: string; date: string };
  parents: string[];
  /** The files at this commit, for a repository kept in memory; a git-backed one keeps them in git. */
  files?: Record<string, string>;
  /** The commit's tree and committer, when it came from git (an in-memory commit has neither). */
  tree?: string;
  committer?: { name: string; email: string; date: string };
}

export interface Hook {
  id: number;
  active: boolean;
  events: string[];
  config: { url: string; content_type: string; secret?: string; insecure_ssl: string };
  created_at: string;
  updated_at: string;
  last_response: { code: number | null; status: string; message: string | null };
}

export interface DeliveryRecord {
  id: number;
  guid: string;
  hookId: number;
  event: string;
  action: string | null;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  request: { headers: Record<string, string>; payload: unknown; body: string };
  response: { headers: Record<string, string>; payload: string | null };
}

export interface CommitStatus {
  id: number;
  state: "error" | "failure" | "pending" | "success";
  description: string | null;
  target_url: string | null;
  context: string;
  created_at: string;
  updated_at: string;
  creator: string;
}

export interface Repo {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  /** Whether a push without credentials is taken as the owner's (GitRepositoryOptions.anonymousPush). */
  anonymousPush?: boolean;
  defaultBranch: string;
  branches: Map<string, string>;
  tags: Map<string, string>;
  commits: Map<string, Commit>;
  hooks: Map<number, Hook>;
  deliveries: DeliveryRecord[];
  statuses: Map<string, CommitStatus[]>;
  /** The repository's web address: https://github.com/<owner>/<name>, or the fake's own pages for a git-backed one. */
  web: string;
  /** The bare git repository a git-backed repository is served from (pushes, clones, contents). */
  git?: string;
}

export function fakeSha(seed: string): string {
  return createHash("sha1").update(seed).digest("hex");
}

export function nodeId(kind: string, id: number | string): string {
  return Buffer.from(`0${kind}${id}`).toString("base64").replace(/=+$/, "");
}

export function user(login: string, base: string) {
  const id = Number.parseInt(fakeSha(login).slice(0, 7), 16);
  return {
    login,
    id,
    node_id: nodeId("User", id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: "",
    url: `${base}/users/${login}`,
    html_url: `https://github.com/${login}`,
    followers_url: `${base}/users/${login}/followers`,
    following_url: `${base}/users/${login}/following{/other_user}`,
    gists_url: `${base}/users/${login}/gists{/gist_id}`,
    starred_url: `${base}/users/${login}/starred{/owner}{/repo}`,
    subscriptions_url: `${base}/users/${login}/subscriptions`,
    organizations_url: `${base}/users/${login}/orgs`,
    repos_url: `${base}/users/${login}/repos`,
    events_url: `${base}/users/${login}/events{/privacy}`,
    received_events_url: `${base}/users/${login}/received_events`,
    type: "User",
    site_admin: false,
  };
}

export function repoURL(repo: Repo, base: string): string {
  return `${base}/repos/${repo.owner}/${repo.name}`;
}

export function minimalRepository(repo: Repo, base: string) {
  const url = repoURL(repo, base);
  const html = repo.web;
  return {
    id: repo.id,
    node_id: nodeId("Repository", repo.id),
    name: repo.name,
    full_name: `${repo.owner}/${repo.name}`,
    owner: user(repo.owner, base),
    private: repo.private,
    html_url: html,
    description: null,
    fork: false,
    url,
    archive_url: `${url}/{archive_format}{/ref}`,
    assignees_url: `${url}/assignees{/user}`,
    blobs_url: `${url}/git/blobs{/sha}`,
    branches_url: `${url}/branches{/branch}`,
    collaborators_url: `${url}/collaborators{/collaborator}`,
    comments_url: `${url}/comments{/number}`,
    commits_url: `${url}/commits{/sha}`,
    compare_url: `${url}/compare/{base}...{head}`,
    contents_url: `${url}/contents/{+path}`,
    contributors_url: `${url}/contributors`,
    deployments_url: `${url}/deployments`,
    downloads_url: `${url}/downloads`,
    events_url: `${url}/events`,
    forks_url: `${url}/forks`,
    git_commits_url: `${url}/git/commits{/sha}`,
    git_refs_url: `${url}/git/refs{/sha}`,
    git_tags_url: `${url}/git/tags{/sha}`,
    git_url: `git://github.com/${repo.owner}/${repo.name}.git`,
    issue_comment_url: `${url}/issues/comments{/number}`,
    issue_events_url: `${url}/issues/events{/number}`,
    issues_url: `${url}/issues{/number}`,
    keys_url: `${url}/keys{/key_id}`,
    labels_url: `${url}/labels{/name}`,
    languages_url: `${url}/languages`,
    merges_url: `${url}/merges`,
    milestones_url: `${url}/milestones{/number}`,
    notifications_url: `${url}/notifications{?since,all,participating}`,
    pulls_url: `${url}/pulls{/number}`,
    releases_url: `${url}/releases{/id}`,
    ssh_url: `git@github.com:${repo.owner}/${repo.name}.git`,
    stargazers_url: `${url}/stargazers`,
    statuses_url: `${url}/statuses/{sha}`,
    subscribers_url: `${url}/subscribers`,
    subscription_url: `${url}/subscription`,
    tags_url: `${url}/tags`,
    teams_url: `${url}/teams`,
    trees_url: `${url}/git/trees{/sha}`,
    clone_url: `${html}.git`,
    hooks_url: `${url}/hooks`,
  };
}

export function hookObject(repo: Repo, hook: Hook, base: string) {
  const url = `${repoURL(repo, base)}/hooks/${hook.id}`;
  const { secret, ...config } = hook.config;
  return {
    type: "Repository",
    id: hook.id,
    name: "web",
    active: hook.active,
    events: [...hook.events],
    // GitHub never returns a hook's secret, only that one is set.
    config: secret ? { ...config, secret: "********" } : config,
    updated_at: hook.updated_at,
    created_at: hook.created_at,
    url,
    test_url: `${url}/test`,
    ping_url: `${url}/pings`,
    deliveries_url: `${url}/deliveries`,
    last_response: { ...hook.last_response },
  };
}

export function deliveryItem(repo: Repo, delivery: DeliveryRecord) {
  return {
    id: delivery.id,
    guid: delivery.guid,
    delivered_at: delivery.delivered_at,
    redelivery: delivery.redelivery,
    duration: delivery.duration,
    status: delivery.status,
    status_code: delivery.status_code,
    event: delivery.event,
    action: delivery.action,
    installation_id: null,
    repository_id: repo.id,
  };
}

export function deliveryObject(repo: Repo, delivery: DeliveryRecord, base: string) {
  return {
    ...deliveryItem(repo, delivery),
    url: `${repoURL(repo, base)}/hooks/${delivery.hookId}/deliveries/${delivery.id}`,
    request: {
      headers: delivery.request.headers,
      payload: delivery.request.payload as Record<string, unknown>,
    },
    response: delivery.response,
  };
}

export function shortBranch(repo: Repo, name: string, sha: string, base: string) {
  return { name, commit: { sha, url: `${repoURL(repo, base)}/commits/${sha}` }, protected: false };
}

export function gitRef(repo: Repo, ref: string, sha: string, base: string) {
  return {
    ref,
    node_id: nodeId("Ref", ref),
    url: `${repoURL(repo, base)}/git/${ref}`,
    object: { type: "commit", sha, url: `${repoURL(repo, base)}/git/commits/${sha}` },
  };
}

export function commitObject(repo: Repo, commit: Commit, base: string) {
  const url = repoURL(repo, base);
  const person = { name: commit.author.name, email: commit.author.email, date: commit.author.date };
  const committer = commit.committer ? { ...commit.committer } : person;
  const tree = commit.tree ?? fakeSha(`tree:${commit.sha}`);
  return {
    url: `${url}/commits/${commit.sha}`,
    sha: commit.sha,
    node_id: nodeId("Commit", commit.sha),
    html_url: `${repo.web}/commit/${commit.sha}`,
    comments_url: `${url}/commits/${commit.sha}/comments`,
    commit: {
      url: `${url}/git/commits/${commit.sha}`,
      author: person,
      committer,
      message: commit.message,
      comment_count: 0,
      tree: { sha: tree, url: `${url}/git/trees/${tree}` },
      verification: {
        verified: false,
        reason: "unsigned",
        payload: null,
        signature: null,
        verified_at: null,
      },
    },
    author: null,
    committer: null,
    parents: commit.parents.map((sha) => ({
      sha,
      url: `${url}/commits/${sha}`,
      html_url: `${repo.web}/commit/${sha}`,
    })),
    stats: { additions: 0, deletions: 0, total: 0 },
    files: [],
  };
}

/** Base64 as GitHub sends file contents (Ruby's encode64): lines of 60 characters, each ending in a newline. */
export function base64Lines(content: Buffer): string {
  return (
    Buffer.from(content)
      .toString("base64")
      .match(/.{1,60}/g) ?? []
  )
    .map((l) => `${l}\n`)
    .join("");
}

/** A file of the contents API; `blob` is its git blob sha when it came from git. */
export function contentFile(
  repo: Repo,
  path: string,
  content: string | Buffer,
  ref: string,
  base: string,
  blob?: string,
) {
  const url = repoURL(repo, base);
  const bytes = typeof content === "string" ? Buffer.from(content) : content;
  const sha = blob ?? fakeSha(`blob ${bytes.toString()}`);
  const self = `${url}/contents/${path}?ref=${encodeURIComponent(ref)}`;
  const html = `${repo.web}/blob/${ref}/${path}`;
  const git = `${url}/git/blobs/${sha}`;
  return {
    type: "file",
    encoding: "base64",
    size: bytes.length,
    name: path.split("/").pop()!,
    path,
    content: base64Lines(bytes),
    sha,
    url: self,
    git_url: git,
    html_url: html,
    download_url: `https://raw.githubusercontent.com/${repo.owner}/${repo.name}/${ref}/${path}`,
    _links: { git, html, self },
  };
}

export function statusObject(repo: Repo, sha: string, status: CommitStatus, base: string) {
  const creator = user(status.creator, base);
  return {
    url: `${repoURL(repo, base)}/statuses/${sha}`,
    avatar_url: creator.avatar_url,
    id: status.id,
    node_id: nodeId("StatusContext", status.id),
    state: status.state,
    description: status.description,
    target_url: status.target_url,
    context: status.context,
    created_at: status.created_at,
    updated_at: status.updated_at,
    creator,
  };
}

/** Newest status per context, as GitHub's combined status reports them. */
export function latestByContext(statuses: readonly CommitStatus[]): CommitStatus[] {
  const latest = new Map<string, CommitStatus>();
  for (const status of statuses) latest.set(status.context, status);
  return [...latest.values()];
}

export function combinedState(statuses: readonly CommitStatus[]): "failure" | "pending" | "success" {
  if (statuses.some((s) => s.state === "error" || s.state === "failure")) return "failure";
  if (statuses.length === 0 || statuses.some((s) => s.state === "pending")) return "pending";
  return "success";
}
