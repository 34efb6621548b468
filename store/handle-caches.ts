// The cache routes: save (PUT, streamed to the backend within the size cap) and restore (GET streams the
// archive found; HEAD only says which one it would be).
import { PassThrough } from "node:stream";
import { pipeline } from "node:stream/promises";
import type Koa from "koa";
import { invalidName, type RepositoryRef, STORE_HEADERS } from "../api/store-protocol.ts";
import { HttpError } from "../lib/http-error.ts";
import { limitBytes } from "../lib/read-body.ts";
import type { StoreDeps } from "./deps.ts";
import { acceptBody } from "./http.ts";

const MAX_CHOICES = 10;

export async function saveCache(
  ctx: Koa.Context,
  ref: RepositoryRef,
  key: string,
  deps: StoreDeps,
): Promise<void> {
  const scope = await deps.auth.authorize(ctx.get("authorization"), {
    action: "save-cache",
    namespace: ref.namespace,
    repository: ref.repository,
  });
  // permit() gives save-cache to build scopes with a branch only.
  if (scope.kind !== "build" || !scope.branch)
    throw new Error("save-cache permitted without a build's branch");
  const max = deps.limits.maxArchiveBytes;
  const declared = Number(ctx.get("content-length"));
  if (ctx.get("content-length") !== "" && declared > max) {
    throw new HttpError(413, `a cache archive may be at most ${max} bytes`);
  }
  acceptBody(ctx);
  const body = new PassThrough();
  const [saved, piped] = await Promise.allSettled([
    deps.caches.save(ref, scope.branch, key, body),
    pipeline(ctx.req, limitBytes(max), body),
  ]);
  // The upload's own failure (413, the client gone) says more than the backend's "premature close".
  if (piped.status === "rejected") throw piped.reason;
  if (saved.status === "rejected") throw saved.reason;
  const answer = saved.value;
  deps.metrics.bytesReceived.inc({ kind: "cache" }, answer.size);
  ctx.status = 201;
  ctx.body = answer;
}

export async function restoreCache(
  ctx: Koa.Context,
  ref: RepositoryRef,
  head: boolean,
  deps: StoreDeps,
): Promise<void> {
  const params = ctx.URL.searchParams;
  const key = params.get("key") ?? "";
  const prefixes = params.getAll("prefix");
  const branches = params.getAll("branch");
  const problem =
    (key === "" ? "key is required" : invalidName("key", key)) ??
    prefixes.map((p) => invalidName("key", p)).find(Boolean) ??
    (branches.length === 0 ? "name at least one branch to look on" : undefined) ??
    branches.map((b) => invalidName("branch", b)).find(Boolean) ??
    (prefixes.length > MAX_CHOICES || branches.length > MAX_CHOICES
      ? `at most ${MAX_CHOICES} prefixes and ${MAX_CHOICES} branches`
      : undefined);
  if (problem) throw new HttpError(400, problem);
  await deps.auth.authorize(ctx.get("authorization"), {
    action: "restore-cache",
    namespace: ref.namespace,
    repository: ref.repository,
  });
  const hit = await deps.caches.find(ref, { key, prefixes, branches });
  const body = hit && !head ? await deps.caches.open(ref, hit) : undefined;
  if (!hit || (!head && !body)) {
    deps.metrics.cacheRestores.inc({ result: "miss" });
    throw new HttpError(
      404,
      `no cache of ${key}${prefixes.length ? ` or ${prefixes.join(", ")}…` : ""} on ${branches.join(", ")}`,
    );
  }
  if (!head)
    deps.metrics.cacheRestores.inc({
      result: hit.exact && hit.cache.branch === branches[0] ? "exact" : "fallback",
    });
  ctx.set(STORE_HEADERS.cacheKey, hit.cache.key);
  ctx.set(STORE_HEADERS.cacheBranch, encodeURIComponent(hit.cache.branch));
  ctx.set(STORE_HEADERS.cacheExact, String(hit.exact));
  ctx.set("Last-Modified", new Date(hit.cache.created).toUTCString());
  ctx.type = "application/octet-stream";
  ctx.length = hit.cache.size;
  if (body) {
    ctx.body = body;
    ctx.res.once("finish", () => deps.metrics.bytesSent.inc({ kind: "cache" }, hit.cache.size));
  } else {
    ctx.status = 200;
  }
}
