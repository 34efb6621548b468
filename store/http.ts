// Small pieces the store's routes share.
import type Koa from "koa";
import { HttpError } from "../lib/http-error.ts";

/** A parsed query parameter, or its problem (a string) as a 400. */
export function valid<T extends number | boolean>(value: T | string): T {
  if (typeof value === "string") throw new HttpError(400, value);
  return value;
}

/**
 * The request may send its body now: answers `Expect: 100-continue` (main.ts routes such requests here
 * instead of letting Node continue at once), so a client waits to upload until it is authorised.
 */
export function acceptBody(ctx: Koa.Context): void {
  if (ctx.get("expect").toLowerCase() === "100-continue" && !ctx.res.headersSent) ctx.res.writeContinue();
}
