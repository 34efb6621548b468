// The build pages' routes on the webhook server (webhook/README.md § Build pages), read-only:
//   GET /builds/<ns>                     the namespace's repositories that have Builds
//   GET /repositories/<ns>/<repo>        a repository's Builds, newest first (?branch= ?phase= ?page=)
//   GET /builds/<ns>/<name>              one Build: its facts, steps, the failing step's tail, its log
//   GET /builds/<ns>/<name>/events       the Build's log as server-sent events (live while it runs)
//   GET /builds/<ns>/<name>/log?step=s   one step's log as plain text
//   GET /assets/page.css, /assets/build-page.js, /assets/favicon.svg
// The list and the build have JSON twins (?format=json, or Accept: application/json): the same views.
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import type Koa from "koa";
import type { Repository } from "../../api/repository.ts";
import { errorAnswer, HttpError } from "../../lib/http-error.ts";
import type { Logger } from "../../lib/log.ts";
import type { StoreClient } from "../../lib/store-client.ts";
import type { BuildSource } from "./build-index.ts";
import { type LogStore, logEvents, parsePosition } from "./log-events.ts";
import { type PageAuth, requestToken, TOKEN_COOKIE } from "./page-auth.ts";
import { ASSETS, renderBuild, renderList, renderProblem, renderRepositories } from "./render.ts";
import { buildView, type LogAvailability, listHref, listView, parseListQuery } from "./views.ts";

export interface PageDeps {
  builds: BuildSource;
  repositories: { named(namespace: string, name: string): Repository | undefined };
  /** `kiln store`, for logs; without it the pages show steps without logs and say why (noStoreReason). */
  store?: LogStore & Pick<StoreClient, "readLog">;
  noStoreReason?: string;
  /** `--page-auth`: who may read. Without it, whoever reaches the server reads the pages. */
  auth?: PageAuth;
  /** Set the token cookie Secure (the public URL is https). */
  secureCookie?: boolean;
  log: Logger;
  now?: () => number;
  /** Server-sent events: a comment this often keeps proxies from closing a quiet stream. */
  heartbeatMs?: number;
  /** At most this many event streams at once (each holds a store follow); beyond, 503 with Retry-After. */
  maxEventStreams?: number;
}

/** No script but our own file, no style but our own sheet, nothing from elsewhere, no framing. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const ASSET_FILES: Record<string, { file: string; type: string }> = {
  [ASSETS.css]: { file: "page.css", type: "text/css; charset=utf-8" },
  [ASSETS.script]: { file: "build-page.js", type: "text/javascript; charset=utf-8" },
  [ASSETS.icon]: { file: "favicon.svg", type: "image/svg+xml" },
};

export function pageRoutes(deps: PageDeps): Koa.Middleware {
  const now = deps.now ?? Date.now;
  const assets = new Map(
    Object.entries(ASSET_FILES).map(([path, a]) => [
      path,
      { type: a.type, body: readFileSync(new URL(`./assets/${a.file}`, import.meta.url)) },
    ]),
  );
  const logs: LogAvailability = deps.store
    ? { available: true }
    : { available: false, why: deps.noStoreReason ?? "this server has no store (--store-url)" };
  const streams = { open: 0, max: deps.maxEventStreams ?? 100 };

  return async (ctx, next) => {
    const asset = assets.get(ctx.path);
    const parts = ctx.path.split("/").slice(1);
    const ours = asset || parts[0] === "builds" || parts[0] === "repositories";
    if (!ours) return next();
    ctx.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    ctx.set("X-Content-Type-Options", "nosniff");
    ctx.set("Referrer-Policy", "no-referrer");
    const json = ctx.query.format === "json" || ctx.accepts("html", "json") === "json";
    try {
      if (ctx.method !== "GET" && ctx.method !== "HEAD") {
        ctx.set("Allow", "GET, HEAD");
        throw new HttpError(405, "the build pages are read-only: GET only");
      }
      if (asset) {
        ctx.type = asset.type;
        ctx.set("Cache-Control", "public, max-age=300");
        ctx.body = asset.body;
        return;
      }
      const segments = decodeSegments(parts);
      const namespace = segments[1];
      if (!namespace) throw notFound("Which namespace? The pages are /builds/<namespace>/<build>.");
      if (deps.auth) {
        const token = ctx.query.token;
        if (typeof token === "string" && token) {
          // A link with ?token= once: keep it in a cookie, and take it out of the address (and history).
          ctx.cookies.set(TOKEN_COOKIE, token, {
            httpOnly: true,
            sameSite: "strict",
            secure: deps.secureCookie ?? false,
            path: "/",
            overwrite: true,
          });
          const params = new URLSearchParams(ctx.querystring);
          params.delete("token");
          ctx.status = 303;
          ctx.redirect(`${ctx.path}${params.size > 0 ? `?${params}` : ""}`);
          return;
        }
        await deps.auth.check(requestToken(ctx.get("authorization"), ctx.get("cookie")), namespace);
      }
      if (segments[0] === "repositories") {
        if (segments.length !== 3)
          throw notFound("The list of a repository's builds is /repositories/<namespace>/<repository>.");
        const repository = segments[2]!;
        const repo = deps.repositories.named(namespace, repository);
        const all = deps.builds.of(namespace, repository);
        if (!repo && all.length === 0)
          throw notFound(
            `No repository ${namespace}/${repository}: no Repository of that name, and no Builds of one.`,
            [{ href: `/builds/${encodeURIComponent(namespace)}`, text: `repositories in ${namespace}` }],
          );
        const view = listView(
          namespace,
          repository,
          repo,
          all,
          parseListQuery(new URLSearchParams(ctx.querystring)),
          now(),
        );
        answer(ctx, json, view, () => renderList(view));
        return;
      }
      if (segments.length === 2) {
        const repositories = deps.builds.repositories(namespace);
        answer(ctx, json, { kind: "repositories", namespace, repositories }, () =>
          renderRepositories(namespace, repositories),
        );
        return;
      }
      const name = segments[2]!;
      const build = deps.builds.get(namespace, name);
      if (!build)
        throw notFound(
          `No Build ${namespace}/${name}. It may never have existed, or been deleted since (a repository keeps only its newest Builds).`,
          [{ href: `/builds/${encodeURIComponent(namespace)}`, text: `repositories in ${namespace}` }],
        );
      const tail = segments.slice(3).join("/");
      if (tail === "") {
        const view = buildView(build, deps.repositories.named(namespace, build.spec.repository), logs, now());
        answer(ctx, json, view, () => renderBuild(view));
        return;
      }
      if (tail === "events" && deps.store) {
        if (streams.open >= streams.max) {
          ctx.set("Retry-After", "10");
          throw new HttpError(503, "too many live logs are being followed; try again shortly");
        }
        streams.open++;
        streamEvents(ctx, deps, deps.store, namespace, name, () => streams.open--);
        return;
      }
      if (tail === "log" && deps.store) {
        const step = ctx.query.step;
        if (typeof step !== "string" || !step) throw new HttpError(400, "which step? /log?step=<name>");
        const read = await deps.store.readLog({ namespace, build: name, step }).catch((err: unknown) => {
          // The store's refusal is the webhook's problem (its token, its RBAC), not the reader's: a 502.
          throw new HttpError(502, `the store could not give the log: ${(err as Error).message}`, {
            cause: err,
            expose: true,
          });
        });
        if (!read) throw notFound(`Step ${JSON.stringify(step)} of ${namespace}/${name} has no log.`);
        ctx.type = "text/plain; charset=utf-8";
        ctx.body = read.body;
        return;
      }
      if ((tail === "events" || tail === "log") && !deps.store)
        throw notFound(`No log here: ${logs.available ? "" : logs.why}`);
      throw notFound(`No page ${ctx.path}.`, [
        { href: listHref(namespace, build.spec.repository, { page: 1 }), text: "its repository" },
      ]);
    } catch (err) {
      const { status, body } = errorAnswer(err);
      if (status >= 500)
        deps.log.error({ status, err: (err as Error).message, path: ctx.path }, "build page failed");
      ctx.status = status;
      if (status === 401) ctx.set("WWW-Authenticate", 'Bearer realm="kiln"');
      const links = (err as { links?: { href: string; text: string }[] }).links ?? [];
      if (json) ctx.body = body;
      else {
        ctx.type = "text/html; charset=utf-8";
        ctx.body = renderProblem(status, body.message, links);
      }
    }
  };
}

function answer(ctx: Koa.Context, json: boolean, view: unknown, page: () => string): void {
  ctx.set("Vary", "Accept");
  if (json) {
    ctx.type = "application/json; charset=utf-8";
    ctx.body = JSON.stringify(view);
  } else {
    ctx.type = "text/html; charset=utf-8";
    ctx.body = page();
  }
}

function notFound(message: string, links: { href: string; text: string }[] = []): HttpError {
  return Object.assign(new HttpError(404, message), { links });
}

function decodeSegments(parts: string[]): string[] {
  try {
    const segments = parts.map((p) => decodeURIComponent(p));
    while (segments.length > 0 && segments[segments.length - 1] === "") segments.pop();
    return segments;
  } catch {
    throw new HttpError(400, "the address is not valid (bad %-encoding)");
  }
}

/** The Build's log as server-sent events: `log` events (id = step:offset, so a reconnect resumes), then `end`. */
function streamEvents(
  ctx: Koa.Context,
  deps: PageDeps,
  store: LogStore,
  namespace: string,
  name: string,
  done: () => void,
): void {
  const stream = new PassThrough();
  const abort = new AbortController();
  ctx.req.once("close", () => abort.abort());
  // A slow reader must not make us buffer the whole log: wait for the socket to drain before the next event.
  const drained = async (wrote: boolean) => {
    if (!wrote && !abort.signal.aborted) await once(stream, "drain", { signal: abort.signal });
  };
  ctx.status = 200;
  ctx.type = "text/event-stream; charset=utf-8";
  ctx.set("Cache-Control", "no-cache");
  ctx.set("X-Accel-Buffering", "no");
  ctx.body = stream;
  const heartbeat = setInterval(() => stream.write(": keep-alive\n\n"), deps.heartbeatMs ?? 15_000);
  const from = parsePosition(ctx.get("last-event-id") || undefined);
  const send = (event: string, data: unknown, id?: string) =>
    stream.write(`${id ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  void (async () => {
    stream.write("retry: 2000\n\n");
    try {
      const events = logEvents(
        {
          store,
          build: () => deps.builds.get(namespace, name),
          changed: (ms, signal) => deps.builds.changed(namespace, name, ms, signal),
        },
        { namespace, build: name },
        from,
        abort.signal,
      );
      for await (const e of events) {
        if (abort.signal.aborted) break;
        if (e.type === "log")
          await drained(
            send(
              "log",
              { step: e.step, name: e.name, text: e.text },
              `${e.position.step}:${e.position.offset}`,
            ),
          );
        else send("end", { phase: e.phase, reason: e.reason });
      }
    } catch (err) {
      if (!abort.signal.aborted) {
        deps.log.warn({ namespace, name, err: (err as Error).message }, "cannot follow the build's log");
        send("end", { phase: "", reason: `the log could not be read: ${(err as Error).message}` });
      }
    } finally {
      clearInterval(heartbeat);
      stream.end();
      done();
    }
  })();
}
