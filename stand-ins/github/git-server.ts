// The github.com side of the fake, for git-backed repositories: git's smart HTTP protocol (clone,
// fetch and push, through `git http-backend`) at /<owner>/<name>.git, and the few web pages the
// repository's links point to. Pushes to one repository are taken one at a time, so the refs read
// before and after each receive-pack are that push's own.
import type { IncomingMessage, ServerResponse } from "node:http";
import { basename, dirname } from "node:path";
import { serveGitHttp } from "../git-repo.ts";
import { compareCommits, type Refs, readRefs, resolveCommit } from "./git-host.ts";
import type { Permission, Repo } from "./model.ts";
import { commitPage, comparePage, type PageCommit, repositoryPage } from "./pages.ts";

export interface GitHost {
  /** The repository a path names: /<owner>/<name>, or a short alias (/<alias>.git, owner undefined). */
  find(owner: string | undefined, name: string): Repo | undefined;
  /** Who a token is and what it may do with the repository; undefined for an unknown token. */
  access(token: string, repo: Repo): { login: string; permission: Permission | "none" } | undefined;
  /** Records a push once receive-pack has run (refs before it, who pushed); the client waits for it. */
  pushed(repo: Repo, before: Refs, pusher: string): Promise<void>;
}

// Only the smart protocol, as GitHub: no dumb-HTTP object paths.
const GIT_PATH = /^\/(?:([^/]+)\/)?([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/;
const PAGE_PATH = /^\/([^/]+)\/([^/]+?)(?:\.git)?(?:\/(commit|compare)\/(.+))?\/?$/;
const RANK: Record<Permission | "none", number> = { none: 0, read: 1, write: 2, admin: 3 };

const locks = new WeakMap<Repo, Promise<unknown>>();

/** Runs `work` after every earlier push to the repository has been recorded. */
function oneAtATime<T>(repo: Repo, work: () => Promise<T>): Promise<T> {
  const run = (locks.get(repo) ?? Promise.resolve()).then(work, work);
  locks.set(
    repo,
    run.catch(() => {}),
  );
  return run;
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers }).end(`${body}\n`);
}

/** The token of Basic credentials: the password (any user name, as GitHub), or a user name without one. */
export function basicToken(header: string | undefined): string | undefined {
  const m = /^basic\s+(\S+)$/i.exec(header ?? "");
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? "" : decoded.slice(colon + 1);
  return password || user || undefined;
}

const CHALLENGE = { "www-authenticate": 'Basic realm="GitHub"' };

/**
 * Answers a git or web request for a git-backed repository; false when the path is neither (the
 * REST API's, then). Reads nothing of the request body before git does.
 */
export async function serveGitHost(
  host: GitHost,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const git = GIT_PATH.exec(url.pathname);
  if (git) {
    const repo = host.find(git[1], git[2]!);
    if (!repo?.git) return false;
    await serveGit(host, repo, git[3]!, url, req, res);
    return true;
  }
  const web = req.method === "GET" ? PAGE_PATH.exec(url.pathname) : null;
  if (web && web[1] !== "repos") {
    const repo = host.find(web[1], web[2]!);
    if (!repo?.git || repo.private) return false;
    await servePage(repo, web[3] as "commit" | "compare" | undefined, web[4], res);
    return true;
  }
  return false;
}

async function serveGit(
  host: GitHost,
  repo: Repo,
  endpoint: string,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const service = endpoint === "info/refs" ? url.searchParams.get("service") : endpoint;
  const method = endpoint === "info/refs" ? "GET" : "POST";
  if (req.method !== method || (service !== "git-upload-pack" && service !== "git-receive-pack"))
    return text(res, 403, "GitHub serves git over the smart HTTP protocol only.");
  const write = service === "git-receive-pack";
  const full = `${repo.owner}/${repo.name}`;
  const auth = req.headers.authorization;
  const token = basicToken(auth);
  let login: string | undefined;
  if (auth !== undefined) {
    const access = token === undefined ? undefined : host.access(token, repo);
    if (!access)
      return text(
        res,
        401,
        "Invalid username or token. Password authentication is not supported for Git operations.",
        CHALLENGE,
      );
    if (access.permission === "none" && repo.private) return text(res, 404, "Repository not found.");
    if (write && RANK[access.permission] < RANK.write)
      return text(res, 403, `Permission to ${full}.git denied to ${access.login}.`);
    login = access.login;
  } else if (repo.private || (write && !repo.anonymousPush)) {
    // git asks its credential helpers, then the terminal, and tries again with credentials.
    return text(res, 401, "Authentication required.", CHALLENGE);
  }
  // git http-backend serves the bare repository itself, whatever path (or alias) the request used.
  const root = dirname(repo.git!);
  const pathInfo = `/${basename(repo.git!)}/${endpoint}`;
  if (endpoint !== "git-receive-pack") {
    await serveGitHttp(root, req, res, { pathInfo, receivePack: write });
    return;
  }
  // An anonymous push (allowed only with anonymousPush: the sandbox's convenience) is the owner's.
  const pusher = login ?? repo.owner;
  await oneAtATime(repo, async () => {
    const before = await readRefs(repo.git!);
    await serveGitHttp(root, req, res, {
      pathInfo,
      receivePack: true,
      beforeEnd: () => host.pushed(repo, before, pusher),
    });
  });
}

function pageCommit(repo: Repo, sha: string): PageCommit | undefined {
  const commit = repo.commits.get(sha);
  return commit && { sha, message: commit.message, author: commit.author, parents: commit.parents };
}

function html(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8" }).end(body);
}

async function servePage(
  repo: Repo,
  kind: "commit" | "compare" | undefined,
  arg: string | undefined,
  res: ServerResponse,
): Promise<void> {
  const full = `${repo.owner}/${repo.name}`;
  const notFound = () => html(res, 404, "<!doctype html><title>Not Found</title><h1>404</h1>\n");
  if (kind === undefined) {
    const branches = [...repo.branches]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, sha]) => ({ name, commit: pageCommit(repo, sha)! }));
    return html(res, 200, repositoryPage(full, repo.web, `${repo.web}.git`, branches));
  }
  if (kind === "commit") {
    const sha = await resolveCommit(repo.git!, decodeURIComponent(arg!));
    const commit = sha && pageCommit(repo, sha);
    if (!sha || !commit) return notFound();
    return html(res, 200, commitPage(full, repo.web, commit, repo.statuses.get(sha) ?? []));
  }
  const spec = decodeURIComponent(arg!);
  const [base, head] = spec.includes("...") ? spec.split("...", 2) : [repo.defaultBranch, spec];
  const from = await resolveCommit(repo.git!, base!);
  const to = await resolveCommit(repo.git!, head!);
  if (!from || !to) return notFound();
  const commits = await compareCommits(repo.git!, from, to);
  return html(
    res,
    200,
    comparePage(
      full,
      repo.web,
      spec,
      commits.map((c) => ({ sha: c.sha, message: c.message, author: c.author, parents: c.parents })),
    ),
  );
}
