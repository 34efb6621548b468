// Shared pieces of the conformance tests: sample objects and bounded waiting.
import { waitFor } from "../wait-for.ts";

export const SHA = "4f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39";

export function buildBody(
  name: string,
  extra: { labels?: Record<string, string>; spec?: Record<string, unknown> } = {},
) {
  return {
    apiVersion: "kiln.dev/v1alpha1",
    kind: "Build",
    metadata: { name, labels: extra.labels },
    spec: {
      repository: "api",
      revision: { sha: SHA, ref: "refs/heads/main", branch: "main" },
      trigger: { event: "manual" },
      ...extra.spec,
    },
  };
}

export function repositoryBody(name: string) {
  return {
    apiVersion: "kiln.dev/v1alpha1",
    kind: "Repository",
    metadata: { name },
    spec: {
      github: { owner: "acme", name },
      tokenSecretRef: { name: "gh", key: "token" },
      webhook: {
        url: "https://kiln.example.com/hooks/github",
        secretRef: { name: "gh", key: "webhook-secret" },
      },
    },
  };
}

export function podBody(name: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, ...extra },
    spec: {
      restartPolicy: "Never",
      containers: [{ name: "main", image: "busybox:1.36", command: ["true"] }],
    },
  };
}

/** The status code of a rejected client-node call (ApiException.code). */
export async function statusOf(
  call: Promise<unknown>,
): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    const e = error as { code?: number; body?: unknown };
    if (typeof e.code !== "number") throw error;
    const body =
      typeof e.body === "string"
        ? (JSON.parse(e.body) as Record<string, unknown>)
        : (e.body as Record<string, unknown>);
    return { code: e.code, body };
  }
  throw new Error("expected the call to fail");
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): Record<string, unknown>;
}

/** A plain HTTPS request to the test server (CA and admin token from its handle), for what clients hide. */
export async function rawRequest(
  server: { url: string; caPem: string; adminToken: string },
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; token?: string | null } = {},
): Promise<RawResponse> {
  const { request } = await import("node:https");
  const url = new URL(path, server.url);
  const payload =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    const token = options.token === undefined ? server.adminToken : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (payload !== undefined) {
      headers["content-type"] ??= "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    const req = request(url, { method, ca: server.caPem, headers, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: () => JSON.parse(text) as Record<string, unknown>,
        });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export { waitFor };
