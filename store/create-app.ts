// The store's HTTP API as a koa app. It never listens: main.ts (or a test, or the bench) does.
import Koa from "koa";
import { errorAnswer } from "../lib/http-error.ts";
import type { StoreDeps } from "./deps.ts";
import { restoreCache, saveCache } from "./handle-caches.ts";
import { appendLog, listSteps, readLog } from "./handle-logs.ts";
import { route } from "./routes.ts";

export function createApp(deps: StoreDeps): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    let name = "other";
    ctx.state.route = (kind: string) => {
      name = kind;
    };
    try {
      await next();
    } catch (err) {
      const { status, body } = errorAnswer(err);
      ctx.status = status;
      ctx.body = body;
      // A body not read to its end (too large, refused): close the connection rather than drain it.
      if (status === 413 || !ctx.req.complete) ctx.set("Connection", "close");
      if (status === 401) ctx.set("WWW-Authenticate", 'Bearer realm="kiln-store"');
      if (status === 401 || status === 403) deps.metrics.denied.inc({ code: String(status) });
      const fields = {
        status,
        route: name,
        path: ctx.path,
        err: err instanceof Error ? err.message : String(err),
      };
      if (status >= 500)
        deps.log.error({ ...fields, cause: String((err as Error).cause ?? "") }, "request failed");
      else deps.log.info(fields, "request refused");
    } finally {
      const done = () => {
        deps.metrics.requests.inc({ route: name, code: String(ctx.status) });
        deps.metrics.requestSeconds.observe({ route: name }, Number(process.hrtime.bigint() - started) / 1e9);
      };
      // A streamed answer is done when its last byte has gone.
      if (ctx.res.writableFinished || ctx.res.destroyed) done();
      else ctx.res.once("close", done);
    }
  });
  app.use(async (ctx) => {
    if (ctx.path === "/healthz") {
      ctx.body = { message: "ok" };
      return;
    }
    if (ctx.path === "/readyz") {
      try {
        await deps.backend.check();
        ctx.body = { message: "ready" };
      } catch (err) {
        deps.log.warn({ err: String(err) }, "backend not ready");
        ctx.status = 503;
        ctx.body = { message: `the ${deps.backend.kind} backend cannot be used` };
      }
      return;
    }
    const r = route(ctx.method, ctx.path);
    if ("status" in r) {
      if (r.allow) ctx.set("Allow", r.allow);
      ctx.status = r.status;
      ctx.body = { message: r.message };
      return;
    }
    (ctx.state.route as (kind: string) => void)(r.kind);
    switch (r.kind) {
      case "append-log":
        return appendLog(ctx, r.ref, deps);
      case "read-log":
        return readLog(ctx, r.ref, deps);
      case "list-steps":
        return listSteps(ctx, r.ref, deps);
      case "restore-cache":
        return restoreCache(ctx, r.ref, r.head, deps);
      case "save-cache":
        return saveCache(ctx, r.ref, r.key, deps);
    }
  });
  return app;
}
