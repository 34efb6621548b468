// The REST endpoints Kiln calls, as a table: method, GitHub's path template, the permission needed,
// and a handler over the fake's state.
import { readFile } from "./git-host.ts";
import type { CommitStatus, DeliveryRecord, Hook, Permission, Repo } from "./model.ts";
import * as model from "./model.ts";

export interface RouteContext {
  repo: Repo;
  /** The request path, for Link headers. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  base: string;
  login: string;
  state: RouteState;
}

export interface RouteState {
  nextId(): number;
  now(): Date;
  /** Sends a delivery (or a redelivery) in the background, as GitHub does. */
  enqueueDelivery(
    repo: Repo,
    hook: Hook,
    event: string,
    payload: Record<string, unknown>,
    redeliveryOf?: DeliveryRecord,
  ): void;
  pingPayload(repo: Repo, hook: Hook): Record<string, unknown>;
  /** A commit status was recorded. */
  statusCreated(repo: Repo, sha: string, status: CommitStatus): void;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: string;
  template: string;
  permission: Permission;
  pattern: RegExp;
  names: string[];
  handle(ctx: RouteContext): Reply | Promise<Reply>;
}

const DOCS = "https://docs.github.com/rest";
export const notFound = (): Reply => ({
  status: 404,
  body: { message: "Not Found", documentation_url: DOCS, status: "404" },
});
const invalid = (message: string, errors: unknown[] = [], documentationURL = DOCS): Reply => ({
  status: 422,
  body: { message, documentation_url: documentationURL, errors, status: "422" },
});
/** GitHub keeps at most this many characters (code points) of a commit status description. */
export const STATUS_DESCRIPTION_MAX = 140;

// Path parameters that may contain slashes (a ref like heads/main, a file path).
const GREEDY = new Set(["path"]);

function route(method: string, template: string, permission: Permission, handle: Route["handle"]): Route {
  const names: string[] = [];
  const source = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return GREEDY.has(name) || (name === "ref" && template.includes("/git/")) ? "(.+)" : "([^/]+)";
  });
  return { method, template, permission, pattern: new RegExp(`^${source}$`), names, handle };
}

/** A page of a list, with the Link header (next, last) that Octokit's paginate follows, as GitHub sends it. */
function paged<T>(ctx: RouteContext, items: T[], render: (item: T) => unknown): Reply {
  const perPage = Math.min(Number(ctx.query.get("per_page") ?? 30) || 30, 100);
  const pageNo = Math.max(Number(ctx.query.get("page") ?? 1) || 1, 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const headers: Record<string, string> = {};
  if (pageNo < last) {
    const link = (n: number) => {
      const url = new URL(`${ctx.base}${ctx.path}`);
      for (const [key, value] of ctx.query) url.searchParams.set(key, value);
      url.searchParams.set("per_page", String(perPage));
      url.searchParams.set("page", String(n));
      return url.toString();
    };
    headers.link = `<${link(pageNo + 1)}>; rel="next", <${link(last)}>; rel="last"`;
  }
  return { status: 200, body: items.slice((pageNo - 1) * perPage, pageNo * perPage).map(render), headers };
}

function hookOf(ctx: RouteContext): Hook | undefined {
  return ctx.repo.hooks.get(Number(ctx.params.hook_id));
}

function resolveRef(repo: Repo, ref: string): string | undefined {
  if (repo.commits.has(ref)) return ref;
  const name = ref.replace(/^refs\//, "").replace(/^(heads|tags)\//, "");
  return (
    repo.branches.get(name) ??
    repo.tags.get(name) ??
    [...repo.commits.keys()].find((sha) => ref.length >= 7 && sha.startsWith(ref))
  );
}

function hookConfig(
  config: Record<string, unknown> | undefined,
  previous?: Hook["config"],
): Hook["config"] | Reply {
  const url = config?.url ?? previous?.url;
  if (typeof url !== "string" || url === "") {
    return invalid("Validation Failed", [
      { resource: "Hook", code: "custom", message: "Config url can't be blank" },
    ]);
  }
  const out: Hook["config"] = {
    url,
    content_type: String(config?.content_type ?? "form"),
    insecure_ssl: String(config?.insecure_ssl ?? "0"),
  };
  if (typeof config?.secret === "string" && config.secret !== "") out.secret = config.secret;
  return out;
}

export const ROUTES: Route[] = [
  route("GET", "/repos/{owner}/{repo}/hooks", "admin", (ctx) =>
    paged(ctx, [...ctx.repo.hooks.values()], (hook) => model.hookObject(ctx.repo, hook, ctx.base)),
  ),
  route("POST", "/repos/{owner}/{repo}/hooks", "admin", (ctx) => {
    const config = hookConfig(ctx.body.config as Record<string, unknown> | undefined);
    if ("status" in config) return config as Reply;
    const events = (ctx.body.events as string[] | undefined) ?? ["push"];
    if ([...ctx.repo.hooks.values()].some((hook) => hook.config.url === config.url)) {
      return invalid("Validation Failed", [
        { resource: "Hook", code: "custom", message: "Hook already exists on this repository" },
      ]);
    }
    const at = ctx.state.now().toISOString();
    const hook: Hook = {
      id: ctx.state.nextId(),
      active: ctx.body.active !== false,
      events,
      config,
      created_at: at,
      updated_at: at,
      last_response: { code: null, status: "unused", message: null },
    };
    ctx.repo.hooks.set(hook.id, hook);
    if (hook.active) ctx.state.enqueueDelivery(ctx.repo, hook, "ping", ctx.state.pingPayload(ctx.repo, hook));
    return {
      status: 201,
      body: model.hookObject(ctx.repo, hook, ctx.base),
      headers: { location: `${ctx.base}/repos/${ctx.repo.owner}/${ctx.repo.name}/hooks/${hook.id}` },
    };
  }),
  route("GET", "/repos/{owner}/{repo}/hooks/{hook_id}", "admin", (ctx) => {
    const hook = hookOf(ctx);
    return hook ? { status: 200, body: model.hookObject(ctx.repo, hook, ctx.base) } : notFound();
  }),
  route("PATCH", "/repos/{owner}/{repo}/hooks/{hook_id}", "admin", (ctx) => {
    const hook = hookOf(ctx);
    if (!hook) return notFound();
    if (ctx.body.config !== undefined) {
      // Like GitHub, a config replaces the old one: a config without a secret removes the secret.
      const config = hookConfig(ctx.body.config as Record<string, unknown>, hook.config);
      if ("status" in config) return config as Reply;
      hook.config = config;
    }
    if (Array.isArray(ctx.body.events)) hook.events = [...(ctx.body.events as string[])];
    if (Array.isArray(ctx.body.add_events))
      hook.events = [...new Set([...hook.events, ...(ctx.body.add_events as string[])])];
    if (Array.isArray(ctx.body.remove_events))
      hook.events = hook.events.filter((e) => !(ctx.body.remove_events as string[]).includes(e));
    if (typeof ctx.body.active === "boolean") hook.active = ctx.body.active;
    hook.updated_at = ctx.state.now().toISOString();
    return { status: 200, body: model.hookObject(ctx.repo, hook, ctx.base) };
  }),
  route("DELETE", "/repos/{owner}/{repo}/hooks/{hook_id}", "admin", (ctx) => {
    if (!ctx.repo.hooks.delete(Number(ctx.params.hook_id))) return notFound();
    return { status: 204 };
  }),
  route("GET", "/repos/{owner}/{repo}/hooks/{hook_id}/deliveries", "admin", (ctx) => {
    const hook = hookOf(ctx);
    if (!hook) return notFound();
    const wanted = ctx.query.get("status");
    const perPage = Math.min(Number(ctx.query.get("per_page") ?? 30) || 30, 100);
    const cursor = ctx.query.get("cursor");
    let items = ctx.repo.deliveries
      .filter((d) => d.hookId === hook.id)
      .filter(
        (d) => wanted === null || (wanted === "success") === (d.status_code >= 200 && d.status_code < 300),
      )
      .sort((a, b) => b.id - a.id);
    if (cursor !== null) items = items.filter((d) => d.id < Number(cursor));
    const shown = items.slice(0, perPage);
    const headers: Record<string, string> = {};
    if (items.length > perPage) {
      const next = new URL(
        `${ctx.base}/repos/${ctx.repo.owner}/${ctx.repo.name}/hooks/${hook.id}/deliveries`,
      );
      next.searchParams.set("per_page", String(perPage));
      next.searchParams.set("cursor", String(shown.at(-1)!.id));
      if (wanted !== null) next.searchParams.set("status", wanted);
      headers.link = `<${next}>; rel="next"`;
    }
    return { status: 200, body: shown.map((d) => model.deliveryItem(ctx.repo, d)), headers };
  }),
  route("GET", "/repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}", "admin", (ctx) => {
    const delivery = ctx.repo.deliveries.find(
      (d) => d.id === Number(ctx.params.delivery_id) && d.hookId === Number(ctx.params.hook_id),
    );
    return delivery ? { status: 200, body: model.deliveryObject(ctx.repo, delivery, ctx.base) } : notFound();
  }),
  route("POST", "/repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts", "admin", (ctx) => {
    const hook = hookOf(ctx);
    const delivery = ctx.repo.deliveries.find(
      (d) => d.id === Number(ctx.params.delivery_id) && d.hookId === hook?.id,
    );
    if (!hook || !delivery) return notFound();
    ctx.state.enqueueDelivery(
      ctx.repo,
      hook,
      delivery.event,
      delivery.request.payload as Record<string, unknown>,
      delivery,
    );
    return { status: 202, body: {} };
  }),
  route("GET", "/repos/{owner}/{repo}/branches", "read", (ctx) =>
    paged(
      ctx,
      [...ctx.repo.branches].sort(([a], [b]) => a.localeCompare(b)),
      ([name, sha]) => model.shortBranch(ctx.repo, name, sha, ctx.base),
    ),
  ),
  route("GET", "/repos/{owner}/{repo}/git/ref/{ref}", "read", (ctx) => {
    const ref = ctx.params.ref!;
    const [kind, ...rest] = ref.split("/");
    const name = rest.join("/");
    const sha =
      kind === "heads" ? ctx.repo.branches.get(name) : kind === "tags" ? ctx.repo.tags.get(name) : undefined;
    return sha ? { status: 200, body: model.gitRef(ctx.repo, `refs/${ref}`, sha, ctx.base) } : notFound();
  }),
  route("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref}", "read", (ctx) => {
    const prefix = `refs/${ctx.params.ref}`;
    const refs = [
      ...[...ctx.repo.branches].map(([name, sha]) => [`refs/heads/${name}`, sha] as const),
      ...[...ctx.repo.tags].map(([name, sha]) => [`refs/tags/${name}`, sha] as const),
    ].filter(([ref]) => ref.startsWith(prefix));
    return { status: 200, body: refs.map(([ref, sha]) => model.gitRef(ctx.repo, ref, sha, ctx.base)) };
  }),
  route("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses", "read", (ctx) => {
    const sha = resolveRef(ctx.repo, ctx.params.ref!);
    const statuses = sha ? [...(ctx.repo.statuses.get(sha) ?? [])].reverse() : [];
    return paged(ctx, statuses, (s) => model.statusObject(ctx.repo, sha!, s, ctx.base));
  }),
  route("GET", "/repos/{owner}/{repo}/commits/{ref}/status", "read", (ctx) => {
    const sha = resolveRef(ctx.repo, ctx.params.ref!);
    if (!sha) return notFound();
    const latest = model.latestByContext(ctx.repo.statuses.get(sha) ?? []);
    const url = `${ctx.base}/repos/${ctx.repo.owner}/${ctx.repo.name}`;
    return {
      status: 200,
      body: {
        state: model.combinedState(latest),
        statuses: latest.map((s) => {
          const { creator: _creator, ...simple } = model.statusObject(ctx.repo, sha, s, ctx.base);
          return simple;
        }),
        sha,
        total_count: latest.length,
        repository: model.minimalRepository(ctx.repo, ctx.base),
        commit_url: `${url}/commits/${sha}`,
        url: `${url}/commits/${sha}/status`,
      },
    };
  }),
  route("GET", "/repos/{owner}/{repo}/commits/{ref}", "read", (ctx) => {
    const sha = resolveRef(ctx.repo, ctx.params.ref!);
    if (!sha) return invalid(`No commit found for SHA: ${ctx.params.ref}`);
    return { status: 200, body: model.commitObject(ctx.repo, ctx.repo.commits.get(sha)!, ctx.base) };
  }),
  route("GET", "/repos/{owner}/{repo}/contents/{path}", "read", async (ctx) => {
    const ref = ctx.query.get("ref") ?? ctx.repo.defaultBranch;
    const sha = resolveRef(ctx.repo, ref);
    const path = ctx.params.path!;
    if (!sha) return notFound();
    if (ctx.repo.git) {
      // What was pushed: the file in the commit's tree, with its blob sha.
      const file = await readFile(ctx.repo.git, sha, path);
      return file
        ? { status: 200, body: model.contentFile(ctx.repo, path, file.content, ref, ctx.base, file.sha) }
        : notFound();
    }
    const text = ctx.repo.commits.get(sha)?.files?.[path];
    return text === undefined
      ? notFound()
      : { status: 200, body: model.contentFile(ctx.repo, path, text, ref, ctx.base) };
  }),
  route("POST", "/repos/{owner}/{repo}/statuses/{sha}", "write", (ctx) => {
    const sha = ctx.params.sha!;
    if (!ctx.repo.commits.has(sha)) return invalid(`No commit found for SHA: ${sha}`);
    const description = ctx.body.description;
    if (typeof description === "string" && Array.from(description).length > STATUS_DESCRIPTION_MAX)
      return invalid(
        "Validation Failed",
        [
          {
            resource: "Status",
            code: "custom",
            field: "description",
            message: `description is too long (maximum is ${STATUS_DESCRIPTION_MAX} characters)`,
          },
        ],
        "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
      );
    const at = ctx.state.now().toISOString();
    const list = ctx.repo.statuses.get(sha) ?? [];
    if (list.length >= 1000)
      return invalid("Validation Failed", [
        {
          resource: "Status",
          code: "custom",
          message: "This SHA and context has reached the maximum number of statuses.",
        },
      ]);
    const status: model.CommitStatus = {
      id: ctx.state.nextId(),
      state: ctx.body.state as model.CommitStatus["state"],
      description: typeof ctx.body.description === "string" ? ctx.body.description : null,
      target_url: typeof ctx.body.target_url === "string" ? ctx.body.target_url : null,
      context: typeof ctx.body.context === "string" ? ctx.body.context : "default",
      created_at: at,
      updated_at: at,
      creator: ctx.login,
    };
    list.push(status);
    ctx.repo.statuses.set(sha, list);
    ctx.state.statusCreated(ctx.repo, sha, status);
    return { status: 201, body: model.statusObject(ctx.repo, sha, status, ctx.base) };
  }),
];

export function matchRoute(
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  for (const candidate of ROUTES) {
    if (candidate.method !== method) continue;
    const match = candidate.pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    candidate.names.forEach((name, i) => {
      params[name] = decodeURIComponent(match[i + 1]!);
    });
    return { route: candidate, params };
  }
  return undefined;
}
