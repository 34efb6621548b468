// The log routes: append (PUT/POST), read (GET, whole, from an offset, or followed), list a Build's steps.
import { Readable } from "node:stream";
import type Koa from "koa";
import { type BuildRef, STORE_HEADERS, type StepRef, type StepsAnswer } from "../api/store-protocol.ts";
import { HttpError } from "../lib/http-error.ts";
import { readBody } from "../lib/read-body.ts";
import type { StoreDeps } from "./deps.ts";
import { acceptBody, valid } from "./http.ts";
import { LogRefusal } from "./logs.ts";
import { parseFlag, parseOffset, parseStepIndex } from "./routes.ts";

const REFUSAL_STATUS = { gap: 409, conflict: 409, "too-large": 413, "past-end": 416 } as const;

export async function appendLog(ctx: Koa.Context, ref: StepRef, deps: StoreDeps): Promise<void> {
  const offset = valid(parseOffset(ctx.URL.searchParams.get("offset") ?? undefined, "offset", true));
  const complete = valid(parseFlag(ctx.URL.searchParams.get("complete") ?? undefined, "complete"));
  const indexText = ctx.URL.searchParams.get("index") ?? undefined;
  const index = indexText === undefined ? undefined : valid(parseStepIndex(indexText));
  // Authorised before the body is read: a bad token stores nothing and costs no upload.
  const scope = await deps.auth.authorize(ctx.get("authorization"), {
    action: "append-log",
    namespace: ref.namespace,
    build: ref.build,
  });
  acceptBody(ctx);
  const body = await readBody(ctx.req, deps.limits.maxChunkBytes);
  if (scope.kind === "build") await deps.logs.record(ref, { repository: scope.repository });
  try {
    ctx.body = await deps.logs.append(ref, offset, body, complete, index);
    deps.metrics.bytesReceived.inc({ kind: "log" }, body.length);
  } catch (err) {
    refusal(ctx, err);
  }
}

export async function readLog(ctx: Koa.Context, ref: StepRef, deps: StoreDeps): Promise<void> {
  const offset = valid(parseOffset(ctx.URL.searchParams.get("offset") ?? undefined, "offset", false));
  const follow = valid(parseFlag(ctx.URL.searchParams.get("follow") ?? undefined, "follow"));
  await deps.auth.authorize(ctx.get("authorization"), {
    action: "read-log",
    namespace: ref.namespace,
    build: ref.build,
  });
  // Only a follower needs to know where the log stands; a plain read learns it from the read itself.
  const now = follow ? await deps.logs.stat(ref) : undefined;
  ctx.set("Cache-Control", "no-store");
  ctx.type = "application/octet-stream";
  if (!follow || now?.complete) {
    let read: Awaited<ReturnType<StoreDeps["logs"]["read"]>>;
    try {
      read = await deps.logs.read(ref, offset);
    } catch (err) {
      return refusal(ctx, err);
    }
    if (!read)
      throw new HttpError(404, `no log of step ${ref.step} of the Build ${ref.namespace}/${ref.build}`);
    ctx.set(STORE_HEADERS.logLength, String(read.length));
    ctx.set(STORE_HEADERS.logComplete, String(read.complete));
    ctx.length = read.length - offset;
    ctx.body = read.body;
    deps.metrics.bytesSent.inc({ kind: "log" }, read.length - offset);
    return;
  }
  // Followed: what is there, then each append as it comes, until the log completes, the client goes, the
  // server stops or the window ends (the client asks again from where it got to).
  const gone = new AbortController();
  ctx.res.once("close", () => gone.abort());
  const signal = AbortSignal.any([gone.signal, deps.stopping, AbortSignal.timeout(deps.limits.followMs)]);
  ctx.set(STORE_HEADERS.logLength, String(now?.length ?? 0));
  ctx.set(STORE_HEADERS.logComplete, "false");
  ctx.set("X-Accel-Buffering", "no"); // a proxy in front must not hold the stream back
  const counted = async function* (source: AsyncGenerator<Buffer>) {
    for await (const bytes of source) {
      deps.metrics.bytesSent.inc({ kind: "log" }, bytes.length);
      yield bytes;
    }
  };
  ctx.body = Readable.from(counted(deps.logs.follow(ref, offset, signal)), { objectMode: false });
}

export async function listSteps(ctx: Koa.Context, ref: BuildRef, deps: StoreDeps): Promise<void> {
  await deps.auth.authorize(ctx.get("authorization"), {
    action: "read-log",
    namespace: ref.namespace,
    build: ref.build,
  });
  const steps = await deps.logs.steps(ref);
  if (steps.length === 0) throw new HttpError(404, `no logs of the Build ${ref.namespace}/${ref.build}`);
  const record = await deps.logs.recordOf(ref);
  ctx.body = {
    namespace: ref.namespace,
    build: ref.build,
    ...(record ? { repository: record.repository } : {}),
    steps,
  } satisfies StepsAnswer;
}

function refusal(ctx: Koa.Context, err: unknown): void {
  if (!(err instanceof LogRefusal)) throw err;
  ctx.status = REFUSAL_STATUS[err.kind];
  ctx.body = { message: err.message, length: err.length, complete: err.complete };
}
