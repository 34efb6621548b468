// The few API calls a kubelet makes, as plain JSON over HTTPS with the kubeconfig's credentials.
// Raw JSON rather than client-node's typed API: pods arrive from watches as plain JSON and go
// back to pods/status unchanged but for their status.
import * as https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

export class HttpError extends Error {
  readonly code: number;
  readonly body: unknown;
  constructor(code: number, body: unknown) {
    const message =
      (body as { message?: string } | undefined)?.message ??
      `HTTP ${code}${typeof body === "string" ? `: ${body.slice(0, 200)}` : ""}`;
    super(message);
    this.code = code;
    this.body = body;
  }
}

export interface Api {
  /** JSON in and out; PATCH bodies go as a JSON merge patch. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** Returns undefined on 404. */
  get<T = unknown>(path: string): Promise<T | undefined>;
  server: URL;
  /** Closes idle keep-alive connections. */
  close(): void;
}

export function createApi(kc: KubeConfig): Api {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const server = new URL(cluster.server);
  const agentOptions: https.RequestOptions = {};
  const ready = kc.applyToHTTPSOptions(agentOptions);
  const agent = ready.then(
    () =>
      new https.Agent({
        keepAlive: true,
        ca: agentOptions.ca,
        cert: agentOptions.cert,
        key: agentOptions.key,
      }),
  );
  const request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    await ready;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const options: https.RequestOptions = {
      ...agentOptions,
      agent: await agent,
      method,
      hostname: server.hostname,
      port: server.port || 443,
      path: `${server.pathname.replace(/\/$/, "")}${path}`,
      headers: {
        ...(agentOptions.headers as Record<string, string>),
        accept: "application/json",
        ...(payload !== undefined
          ? {
              "content-type": method === "PATCH" ? "application/merge-patch+json" : "application/json",
              "content-length": String(Buffer.byteLength(payload)),
            }
          : {}),
      },
    };
    return new Promise<T>((resolve, reject) => {
      const req = https.request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {}
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) resolve(parsed as T);
          else reject(new HttpError(code, parsed));
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  };
  return {
    server,
    close: () => {
      void agent.then((a) => a.destroy());
    },
    request,
    get: async <T>(path: string) => {
      try {
        return await request<T>("GET", path);
      } catch (error) {
        if (error instanceof HttpError && error.code === 404) return undefined;
        throw error;
      }
    },
  };
}
