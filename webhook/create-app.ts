// The webhook server as a koa app: GitHub's deliveries, probes, and the build pages (page/). It never listens: main.ts (or a test, or the bench) does.
import Koa from "koa";
import { errorAnswer, HttpError } from "../lib/http-error.ts";
import type { WebhookDeps } from "./deps.ts";
import { handleDelivery } from "./handle-delivery.ts";
import { pageRoutes } from "./page/page-routes.ts";

export const HOOK_PATH = "/hooks/github";

export function createApp(deps: WebhookDeps): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const { status, body } = errorAnswer(err);
      ctx.status = status;
      ctx.body = body;
      if (status === 413) ctx.set("Connection", "close");
      const fields = {
        status,
        err: err instanceof Error ? err.message : String(err),
        delivery: ctx.get("x-github-delivery"),
      };
      if (status >= 500) deps.log.error(fields, "delivery failed");
      else deps.log.info(fields, "delivery rejected");
    }
  });
  app.use(async (ctx, next) => {
    if (ctx.path === "/healthz") {
      ctx.body = { message: "ok" };
      return;
    }
    if (ctx.path === "/readyz") {
      const ready = deps.repositories.ready();
      ctx.status = ready ? 200 : 503;
      ctx.body = { message: ready ? "ready" : "repository cache not synced" };
      return;
    }
    if (ctx.path !== HOOK_PATH) return next();
    if (ctx.method !== "POST") {
      ctx.set("Allow", "POST");
      throw new HttpError(405, `${HOOK_PATH} accepts POST only`);
    }
    const result = await handleDelivery(ctx.req, deps);
    ctx.status = result.status;
    ctx.body = result.body;
  });
  if (deps.page) app.use(pageRoutes({ ...deps.page, repositories: deps.repositories, log: deps.log }));
  return app;
}
