// Reading request bodies and writing JSON / Status responses, for HTTP/1.1 and HTTP/2 alike.
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { parse as parseYaml } from "yaml";
import { ApiError, badRequest } from "./errors.ts";
import { decodeKubernetesProtobuf, isKubernetesProtobuf } from "./protobuf.ts";
import type { Response } from "./watch.ts";

export type Request = IncomingMessage | Http2ServerRequest;

const MAX_BODY = 3 * 1024 * 1024;

const DECODABLE = new Set([
  "", // kube takes a body without a content type for its first serializer, JSON
  "application/json",
  "application/yaml",
  "application/merge-patch+json",
  "application/json-patch+json",
  "application/strategic-merge-patch+json",
]);

export async function readBody(req: Request): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY)
      throw new ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** JSON (or YAML, which kube also accepts) request body; undefined when empty. */
export async function readObject(req: Request): Promise<unknown> {
  const body = await readBody(req);
  if (body.length === 0) return undefined;
  const type = String(req.headers["content-type"] ?? "").toLowerCase();
  if (isKubernetesProtobuf(type)) {
    try {
      return decodeKubernetesProtobuf(body);
    } catch (error) {
      throw new ApiError(
        415,
        "UnsupportedMediaType",
        `the body of the request could not be decoded: ${(error as Error).message}`,
      );
    }
  }
  // What kube decodes: JSON and YAML (and the patch types, checked by the patch handler before reading);
  // anything else, text/plain included, is refused rather than guessed at.
  const mediaType = type.split(";")[0]!.trim();
  if (!DECODABLE.has(mediaType)) {
    throw new ApiError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf; got ${type}`,
    );
  }
  const text = body.toString("utf8");
  try {
    if (mediaType === "application/yaml") return parseYaml(text);
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`the body of the request was in an unknown format: ${(error as Error).message}`);
  }
}

export function sendJSON(
  res: Response,
  code: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    "content-type": "application/json",
    "cache-control": "no-cache, private",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: Response, error: unknown): void {
  const e =
    error instanceof ApiError
      ? error
      : new ApiError(
          500,
          "InternalError",
          `Internal error occurred: ${(error as Error)?.message ?? String(error)}`,
        );
  if (res.headersSent) {
    res.end();
    return;
  }
  // kube's ErrorNegotiated sends a Retry-After header for a Status that suggests one.
  const retryAfter = e.details?.retryAfterSeconds;
  sendJSON(res, e.code, e.toStatus(), retryAfter ? { "retry-after": String(retryAfter) } : {});
}

/** kube's Warning header value: `299 - "<text>"` with quotes and backslashes escaped. */
export function warningHeader(warnings: string[]): Record<string, string[]> {
  if (warnings.length === 0) return {};
  return { warning: warnings.map((w) => `299 - "${w.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`) };
}
