// A local fake of the GitHub REST endpoints Kiln calls, on 127.0.0.1: auth (401/403/404 as GitHub
// answers them), rate-limit headers and limits, injectable failures, webhook deliveries to Kiln, and
// every response checked against GitHub's OpenAPI description (drift fails the test at stop()).
// A git-backed repository is a real bare git repository served over smart HTTP: a `git push` to it
// delivers push events, and the API answers from the pushed objects (git-server.ts, git-host.ts).
import { EventEmitter, once } from "node:events";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import examples from "@octokit/webhooks-examples" with { type: "json" };
import { type DeliveryRequest, sendDelivery } from "./deliver.ts";
import { initBare, newCommits, pushFacts, type Refs, readRefs, setHead } from "./git-host.ts";
import { serveGitHost } from "./git-server.ts";
import {
  type Commit,
  type CommitStatus,
  type DeliveryRecord,
  fakeSha,
  type Hook,
  minimalRepository,
  type Permission,
  type Repo,
  user,
} from "./model.ts";
import { checkRequest, checkResponse } from "./openapi.ts";
import {
  deliveredUpdates,
  MAX_PUSH_COMMITS,
  type PushedCommit,
  type PushFacts,
  pushPayload,
  type RefUpdate,
  refUpdates,
  ZERO_SHA,
} from "./push-event.ts";
import { matchRoute, notFound, type Reply, type RouteState } from "./routes.ts";

export type { Commit, CommitStatus, DeliveryRecord, Hook, Permission, RefUpdate, Repo };

const RANK: Record<Permission, number> = { read: 1, write: 2, admin: 3 };
const DOCS = "https://docs.github.com/rest";

export interface TokenGrant {
  login: string;
  /** Permission on every repository unless listed in `repositories`. Default: admin. */
  permission?: Permission | "none";
  repositories?: Record<string, Permission | "none">;
}

export interface Failure {
  method?: string;
  /** Matched against the request path (without query); a string matches as a substring. */
  path?: string | RegExp;
  status: number;
  /** How many matching requests fail; default 1. Infinity fails until clearFailures(). */
  times?: number;
  message?: string;
  /** Sets Retry-After (seconds), as GitHub does for secondary rate limits. */
  retryAfter?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  template?: string;
  status: number;
  body?: unknown;
}

export interface FakeGitHubOptions {
  /** Requests per hour before primary rate limiting (403 with x-ratelimit-remaining: 0). */
  rateLimit?: number;
  now?: () => Date;
  /** The port on 127.0.0.1 (default 0: any free one). */
  port?: number;
}

/** What happens on the fake, for a console or a test to follow as it happens. */
export interface FakeGitHubEvents {
  /** A webhook delivery was answered (or failed). */
  delivery: [repo: Repo, delivery: DeliveryRecord];
  /** A commit status was created. */
  status: [repo: Repo, sha: string, status: CommitStatus];
}

export interface GitRepositoryOptions {
  private?: boolean;
  /** The branch HEAD names until the first push (GitHub's default: main). */
  defaultBranch?: string;
  /** A short path the repository is also served at: "demo" → /demo.git. */
  alias?: string;
  /**
   * Take a push without credentials as the owner's: the sandbox's convenience on 127.0.0.1. GitHub (and
   * the stand-in without this) answers such a push 401.
   */
  anonymousPush?: boolean;
}

export interface PushOptions {
  message?: string;
  author?: string;
  files?: Record<string, string>;
  /** Deliver the push event to the repository's hooks (default true). */
  deliver?: boolean;
  /** The commit's sha, to mirror a commit of a real git repository the build pods fetch from. */
  sha?: string;
}

export class FakeGitHub {
  readonly url: string;
  readonly requests: RequestRecord[] = [];
  readonly drift: string[] = [];
  readonly events = new EventEmitter<FakeGitHubEvents>();
  readonly #server: ReturnType<typeof createServer>;
  readonly #repos = new Map<string, Repo>();
  readonly #tokens = new Map<string, TokenGrant>();
  readonly #failures: Array<Failure & { left: number }> = [];
  readonly #pending = new Set<Promise<unknown>>();
  readonly #now: () => Date;
  #id = 1000;
  #limit: number;
  #used = 0;
  #resetAt: number;
  #gitRoot: Promise<string> | undefined;
  readonly #aliases = new Map<string, Repo>();

  private constructor(server: ReturnType<typeof createServer>, url: string, options: FakeGitHubOptions) {
    this.#server = server;
    this.url = url;
    this.#now = options.now ?? (() => new Date());
    this.#limit = options.rateLimit ?? 5000;
    this.#resetAt = Math.floor(this.#now().getTime() / 1000) + 3600;
  }

  static async start(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    let fake: FakeGitHub | undefined;
    const server = createServer((req, res) => {
      fake!.#handle(req, res).catch((err) => {
        fake!.drift.push(`fake GitHub crashed on ${req.method} ${req.url}: ${(err as Error).stack}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    server.listen(options.port ?? 0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    fake = new FakeGitHub(server, `http://127.0.0.1:${port}`, options);
    return fake;
  }

  // ---- setup ----

  addToken(token: string, grant: TokenGrant): void {
    this.#tokens.set(token, grant);
  }

  addRepository(
    owner: string,
    name: string,
    options: { private?: boolean; defaultBranch?: string } = {},
  ): Repo {
    const repo: Repo = {
      id: this.#nextId(),
      owner,
      name,
      private: options.private ?? false,
      defaultBranch: options.defaultBranch ?? "main",
      branches: new Map(),
      tags: new Map(),
      commits: new Map(),
      hooks: new Map(),
      deliveries: [],
      statuses: new Map(),
      web: `https://github.com/${owner}/${name}`,
    };
    this.#repos.set(`${owner}/${name}`.toLowerCase(), repo);
    this.commit(owner, name, repo.defaultBranch, { message: "Initial commit", deliver: false });
    return repo;
  }

  /**
   * A repository backed by a real, empty bare git repository, served at gitURL(owner, name): clone,
   * fetch and push with git. A push delivers push events to its hooks; branches, commits and
   * contents are what was pushed; its links (html_url, compare) point at this server's pages.
   */
  async addGitRepository(owner: string, name: string, options: GitRepositoryOptions = {}): Promise<Repo> {
    const key = `${owner}/${name}`.toLowerCase();
    if (this.#repos.has(key)) throw new Error(`fake GitHub already has a repository ${owner}/${name}`);
    for (const [what, value] of [
      ["owner", owner],
      ["name", name],
      ["alias", options.alias],
    ] as const)
      if (value !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(value))
        throw new Error(`a repository ${what} is letters, digits, "-", "_" and ".", got "${value}"`);
    this.#gitRoot ??= mkdtemp(join(tmpdir(), "kiln-fake-github-"));
    const dir = join(await this.#gitRoot, `${key}.git`);
    await mkdir(join(dir, ".."), { recursive: true });
    const defaultBranch = options.defaultBranch ?? "main";
    await initBare(dir, defaultBranch);
    const repo: Repo = {
      id: this.#nextId(),
      owner,
      name,
      private: options.private ?? false,
      anonymousPush: options.anonymousPush ?? false,
      defaultBranch,
      branches: new Map(),
      tags: new Map(),
      commits: new Map(),
      hooks: new Map(),
      deliveries: [],
      statuses: new Map(),
      web: `${this.url}/${owner}/${name}`,
      git: dir,
    };
    this.#repos.set(key, repo);
    if (options.alias !== undefined) this.#aliases.set(options.alias.toLowerCase(), repo);
    return repo;
  }

  /** Where git clones and pushes a git-backed repository. */
  gitURL(owner: string, name: string): string {
    const repo = this.repository(owner, name);
    if (!repo.git) throw new Error(`${owner}/${name} is not a git-backed repository`);
    return `${this.url}/${repo.owner}/${repo.name}.git`;
  }

  repository(owner: string, name: string): Repo {
    const repo = this.#repos.get(`${owner}/${name}`.toLowerCase());
    if (!repo) throw new Error(`fake GitHub has no repository ${owner}/${name}`);
    return repo;
  }

  /** Moves a branch to a new commit without delivering anything (a push GitHub failed to deliver). */
  commit(owner: string, name: string, branch: string, options: PushOptions = {}): Commit {
    const repo = this.repository(owner, name);
    if (repo.git) throw new Error(`${owner}/${name} is git-backed: push to it with git`);
    const parent = repo.branches.get(branch);
    const files = { ...(parent ? repo.commits.get(parent)?.files : {}), ...options.files };
    const date = this.#now().toISOString();
    const sha =
      options.sha ??
      fakeSha(`${repo.id}/${branch}/${parent ?? ""}/${options.message ?? ""}/${this.#nextId()}`);
    const commit: Commit = {
      sha,
      message: options.message ?? `Commit ${sha.slice(0, 7)}`,
      author: { name: options.author ?? "Ada Lovelace", email: "ada@example.com", date },
      parents: parent ? [parent] : [],
      files,
    };
    repo.commits.set(sha, commit);
    repo.branches.set(branch, sha);
    return commit;
  }

  /** A push as GitHub sees it: the branch moves and a push event goes to every hook that wants it. */
  async push(
    owner: string,
    name: string,
    branch: string,
    options: PushOptions = {},
  ): Promise<{ commit: Commit; deliveries: DeliveryRecord[] }> {
    const repo = this.repository(owner, name);
    const before = repo.branches.get(branch) ?? ZERO_SHA;
    const commit = this.commit(owner, name, branch, options);
    if (options.deliver === false) return { commit, deliveries: [] };
    const deliveries = await this.deliver(
      owner,
      name,
      "push",
      this.pushPayload(repo, branch, before, commit),
    );
    return { commit, deliveries };
  }

  /** The push event of a push (in memory) that moved `branch` from `before` to `commit`. */
  pushPayload(repo: Repo, branch: string, before: string, commit: Commit): Record<string, unknown> {
    const author = { name: commit.author.name, email: commit.author.email, username: "ada" };
    const head: PushedCommit = {
      sha: commit.sha,
      tree: fakeSha(`tree:${commit.sha}`),
      message: commit.message,
      timestamp: commit.author.date,
      author,
      committer: author,
      added: [],
      removed: [],
      modified: [],
      distinct: true,
    };
    const facts: PushFacts = {
      update: { ref: `refs/heads/${branch}`, before, after: commit.sha },
      commits: [head],
      head,
      forced: false,
      firstPush: false,
    };
    return pushPayload(facts, this.#pushContext(repo, "ada", "ada@example.com"));
  }

  #pushContext(repo: Repo, login: string, email: string) {
    const template = structuredClone(exampleOf("push", (p) => p.ref === "refs/heads/master"));
    return {
      html: repo.web,
      template,
      repository: {
        ...(template.repository as object),
        ...minimalRepository(repo, this.url),
        default_branch: repo.defaultBranch,
        master_branch: repo.defaultBranch,
        // A push event's repository carries its times as Unix seconds.
        pushed_at: Math.floor(this.#now().getTime() / 1000),
      },
      pusher: { name: login, email },
      sender: user(login, this.url),
    };
  }

  /**
   * Records a git push to a git-backed repository (refs as they were before it) and delivers its
   * push events, one per ref, in ref order, in the background as GitHub does.
   */
  async #recordPush(repo: Repo, before: Refs, pusher: string): Promise<void> {
    const dir = repo.git!;
    const after = await readRefs(dir);
    const updates = refUpdates(before.refs, after.refs);
    if (updates.length === 0) return;
    for (const commit of await newCommits(dir, before, after)) {
      const { added: _a, removed: _r, modified: _m, ...kept } = commit;
      repo.commits.set(commit.sha, { ...kept });
    }
    const firstBranch = before.refs.size === 0;
    repo.branches.clear();
    repo.tags.clear();
    for (const [ref, sha] of after.commits) {
      if (ref.startsWith("refs/heads/")) repo.branches.set(ref.slice("refs/heads/".length), sha);
      else if (ref.startsWith("refs/tags/")) repo.tags.set(ref.slice("refs/tags/".length), sha);
    }
    // As on GitHub, the first branch pushed to an empty repository becomes its default branch.
    if (firstBranch && !repo.branches.has(repo.defaultBranch) && repo.branches.size > 0) {
      repo.defaultBranch = [...repo.branches.keys()].sort()[0]!;
      await setHead(dir, repo.defaultBranch);
    }
    const payloads: Record<string, unknown>[] = [];
    const context = this.#pushContext(repo, pusher, `${pusher}@users.noreply.github.com`);
    for (const update of deliveredUpdates(updates)) {
      const facts = await pushFacts(dir, update, before, after, MAX_PUSH_COMMITS);
      payloads.push(pushPayload(facts, context));
    }
    void this.#track(
      (async () => {
        for (const payload of payloads) await this.deliver(repo.owner, repo.name, "push", payload);
      })(),
    );
  }

  /**
   * A pull request opened against `base` whose head commit `sha` lives in `from` ("owner/name": a fork
   * unless it is this repository), delivered as GitHub's pull_request "opened" event.
   */
  async openPullRequest(
    owner: string,
    name: string,
    options: {
      number: number;
      sha: string;
      from: string;
      head: string;
      base?: string;
      title?: string;
      author?: string;
    },
  ): Promise<DeliveryRecord[]> {
    const repo = this.repository(owner, name);
    const template = structuredClone(exampleOf("pull_request", (p) => p.action === "opened")) as {
      pull_request: Record<string, unknown> & {
        head: Record<string, unknown>;
        base: Record<string, unknown>;
        user: object;
      };
      [key: string]: unknown;
    };
    const [forkOwner, forkName] = options.from.split("/") as [string, string];
    const here = minimalRepository(repo, this.url);
    const headRepo = {
      ...here,
      name: forkName,
      full_name: options.from,
      owner: user(forkOwner, this.url),
      fork: options.from !== `${owner}/${name}`,
    };
    const pr = template.pull_request;
    return this.deliver(owner, name, "pull_request", {
      ...template,
      action: "opened",
      number: options.number,
      pull_request: {
        ...pr,
        number: options.number,
        title: options.title ?? "A change",
        user: user(options.author ?? forkOwner, this.url),
        html_url: `https://github.com/${owner}/${name}/pull/${options.number}`,
        head: {
          ...pr.head,
          ref: options.head,
          sha: options.sha,
          label: `${forkOwner}:${options.head}`,
          repo: headRepo,
        },
        base: { ...pr.base, ref: options.base ?? repo.defaultBranch, repo: here },
      },
      repository: { ...(template.repository as object), ...here },
      sender: user(options.author ?? forkOwner, this.url),
    });
  }

  /** Delivers an event to every active hook of the repository that subscribes to it; resolves when all are answered. */
  async deliver(
    owner: string,
    name: string,
    event: string,
    payload: Record<string, unknown>,
  ): Promise<DeliveryRecord[]> {
    const repo = this.repository(owner, name);
    const hooks = [...repo.hooks.values()].filter(
      (h) => h.active && (h.events.includes(event) || h.events.includes("*")),
    );
    return Promise.all(hooks.map((hook) => this.#track(this.#send(repo, hook, { event, payload }))));
  }

  // ---- error injection and limits ----

  failNext(failure: Failure): void {
    this.#failures.push({ ...failure, left: failure.times ?? 1 });
  }

  clearFailures(): void {
    this.#failures.length = 0;
  }

  setRateLimit(limit: number, used = 0): void {
    this.#limit = limit;
    this.#used = used;
  }

  // ---- inspection ----

  hooks(owner: string, name: string): Hook[] {
    return [...this.repository(owner, name).hooks.values()].map((hook) => structuredClone(hook));
  }

  deliveries(owner: string, name: string): DeliveryRecord[] {
    return [...this.repository(owner, name).deliveries];
  }

  statuses(owner: string, name: string, sha: string): CommitStatus[] {
    return [...(this.repository(owner, name).statuses.get(sha) ?? [])];
  }

  requestsTo(method: string, template: string): RequestRecord[] {
    return this.requests.filter((r) => r.method === method && r.template === template);
  }

  /** Resolves when every delivery started so far (pings, redeliveries) has been answered. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  assertNoDrift(): void {
    if (this.drift.length > 0)
      throw new Error(
        `fake GitHub answers drifted from GitHub's OpenAPI description:\n${this.drift.join("\n")}`,
      );
  }

  async stop(): Promise<void> {
    await this.settled();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (this.#gitRoot) await rm(await this.#gitRoot, { recursive: true, force: true });
    this.assertNoDrift();
  }

  // ---- internals ----

  get #gitHost() {
    return {
      find: (owner: string | undefined, name: string) =>
        owner === undefined
          ? this.#aliases.get(name.toLowerCase())
          : this.#repos.get(`${owner}/${name}`.toLowerCase()),
      access: (token: string, repo: Repo) => {
        const grant = this.#tokens.get(token);
        return grant && { login: grant.login, permission: permissionOf(grant, `${repo.owner}/${repo.name}`) };
      },
      pushed: (repo: Repo, before: Refs, pusher: string) => this.#recordPush(repo, before, pusher),
    };
  }

  #nextId(): number {
    return this.#id++;
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise)).catch(() => {});
    return promise;
  }

  async #send(repo: Repo, hook: Hook, request: DeliveryRequest): Promise<DeliveryRecord> {
    const record = await sendDelivery(hook, repo, request, this.#nextId(), this.#now);
    repo.deliveries.push(record);
    this.events.emit("delivery", repo, record);
    return record;
  }

  #state(): RouteState {
    return {
      nextId: () => this.#nextId(),
      now: this.#now,
      statusCreated: (repo, sha, status) => this.events.emit("status", repo, sha, status),
      enqueueDelivery: (repo, hook, event, payload, redeliveryOf) => {
        void this.#track(
          this.#send(repo, hook, {
            event,
            payload,
            ...(redeliveryOf && { guid: redeliveryOf.guid, redelivery: true }),
          }),
        );
      },
      pingPayload: (repo, hook) => ({
        zen: "Keep it logically awesome.",
        hook_id: hook.id,
        hook: {
          type: "Repository",
          id: hook.id,
          name: "web",
          active: hook.active,
          events: hook.events,
          config: {
            url: hook.config.url,
            content_type: hook.config.content_type,
            insecure_ssl: hook.config.insecure_ssl,
          },
        },
        repository: minimalRepository(repo, this.url),
        sender: user(repo.owner, this.url),
      }),
    };
  }

  #rateHeaders(): Record<string, string> {
    return {
      "x-ratelimit-limit": String(this.#limit),
      "x-ratelimit-remaining": String(Math.max(this.#limit - this.#used, 0)),
      "x-ratelimit-used": String(this.#used),
      "x-ratelimit-reset": String(this.#resetAt),
      "x-ratelimit-resource": "core",
    };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (await serveGitHost(this.#gitHost, req, res)) return;
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const matched = matchRoute(method, url.pathname);
    const reply = await this.#answer(req, method, url, text, matched);
    const template = matched?.route.template;
    if (template) {
      const problem = checkResponse(method, template, reply.status, reply.body);
      if (problem) {
        this.drift.push(`${method} ${template} → ${reply.status}: ${problem}`);
        reply.status = 500;
        reply.body = { message: `fake GitHub drift: ${problem}`, documentation_url: DOCS };
      }
    }
    this.requests.push({
      method,
      path: url.pathname,
      status: reply.status,
      body: reply.body,
      ...(template && { template }),
    });
    const headers: Record<string, string> = {
      ...this.#rateHeaders(),
      "x-github-media-type": "github.v3; format=json",
      "x-github-request-id": `FAKE:${this.#nextId()}`,
      ...reply.headers,
    };
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
      return;
    }
    res
      .writeHead(reply.status, { ...headers, "content-type": "application/json; charset=utf-8" })
      .end(JSON.stringify(reply.body));
  }

  async #answer(
    req: IncomingMessage,
    method: string,
    url: URL,
    text: string,
    matched: ReturnType<typeof matchRoute>,
  ): Promise<Reply> {
    if (!matched) return notFound();
    const failure = this.#failures.find(
      (f) =>
        f.left > 0 &&
        (f.method === undefined || f.method === method) &&
        (f.path === undefined ||
          (typeof f.path === "string" ? url.pathname.includes(f.path) : f.path.test(url.pathname))),
    );
    if (failure) {
      failure.left--;
      return injected(failure);
    }
    const auth = req.headers.authorization ?? "";
    const token = /^(?:token|bearer)\s+(.+)$/i.exec(auth)?.[1];
    if (!token)
      return {
        status: 401,
        body: { message: "Requires authentication", documentation_url: DOCS, status: "401" },
      };
    const grant = this.#tokens.get(token);
    if (!grant)
      return { status: 401, body: { message: "Bad credentials", documentation_url: DOCS, status: "401" } };
    this.#used++;
    if (this.#used > this.#limit) {
      return {
        status: 403,
        body: {
          message: `API rate limit exceeded for user ID ${user(grant.login, this.url).id}.`,
          documentation_url: DOCS,
          status: "403",
        },
      };
    }
    const repo = this.#repos.get(`${matched.params.owner}/${matched.params.repo}`.toLowerCase());
    const permission = permissionOf(grant, `${matched.params.owner}/${matched.params.repo}`);
    // GitHub hides repositories a token cannot see: 404, not 403.
    if (!repo || (permission === "none" && repo.private)) return notFound();
    const rank = permission === "none" ? 1 : RANK[permission];
    if (rank < RANK[matched.route.permission]) {
      return {
        status: 403,
        body: {
          message: "Resource not accessible by personal access token",
          documentation_url: DOCS,
          status: "403",
        },
        headers: {
          "x-accepted-github-permissions":
            matched.route.permission === "admin" ? "administration=write" : "statuses=write",
        },
      };
    }
    let body: Record<string, unknown> = {};
    if (text !== "") {
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return {
          status: 400,
          body: { message: "Problems parsing JSON", documentation_url: DOCS, status: "400" },
        };
      }
    }
    const problem = checkRequest(method, matched.route.template, body);
    if (problem)
      return { status: 422, body: { message: `Invalid request.\n\n${problem}`, documentation_url: DOCS } };
    return matched.route.handle({
      repo,
      path: url.pathname,
      params: matched.params,
      query: url.searchParams,
      body,
      base: this.url,
      login: grant.login,
      state: this.#state(),
    });
  }
}

function permissionOf(grant: TokenGrant, fullName: string): Permission | "none" {
  return grant.repositories?.[fullName] ?? grant.permission ?? "admin";
}

function injected(failure: Failure): Reply {
  const headers: Record<string, string> = {};
  if (failure.retryAfter !== undefined) headers["retry-after"] = String(failure.retryAfter);
  const defaults: Record<number, string> = {
    401: "Bad credentials",
    403:
      failure.retryAfter !== undefined
        ? "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
        : "Forbidden",
    404: "Not Found",
    429: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
  };
  const message = failure.message ?? defaults[failure.status] ?? "Server Error";
  return {
    status: failure.status,
    body: { message, documentation_url: DOCS, status: String(failure.status) },
    headers,
  };
}

type Example = Record<string, unknown>;
function exampleOf(event: string, pick: (payload: Example) => boolean): Example {
  const found = (examples as unknown as Array<{ name: string; examples: Example[] }>)
    .find((e) => e.name === event)
    ?.examples.find(pick);
  if (!found) throw new Error(`no ${event} example payload`);
  return found;
}

export function startFakeGitHub(options?: FakeGitHubOptions): Promise<FakeGitHub> {
  return FakeGitHub.start(options);
}
