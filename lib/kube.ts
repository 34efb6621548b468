// A small JSON client for the Kubernetes API over node:https with a keep-alive agent. Objects stay plain
// JSON exactly as the server sends them (client-node's typed APIs turn timestamps into Dates on list but
// not on watch, so one cache would mix both), and errors carry the HTTP status in `code` and the Status
// body, as client-node's ApiException does, so lib/kube-errors.ts classifies both.
import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

export interface KubeStatus {
  kind?: "Status";
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
}

export class KubeApiError extends Error {
  readonly code: number;
  readonly body: KubeStatus;

  constructor(code: number, body: KubeStatus, what: string) {
    super(`${what}: ${code} ${body.reason ?? ""} ${body.message ?? ""}`.trim());
    this.name = "KubeApiError";
    this.code = code;
    this.body = body;
  }
}

export interface KubeList<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export type Query = Record<string, string | number | boolean | undefined>;

const MERGE_PATCH = "application/merge-patch+json";

export class KubeClient {
  readonly #kubeConfig: KubeConfig;
  readonly #server: URL;
  #agent: http.Agent | undefined;

  constructor(kubeConfig: KubeConfig) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    this.#kubeConfig = kubeConfig;
    this.#server = new URL(cluster.server);
  }

  get kubeConfig(): KubeConfig {
    return this.#kubeConfig;
  }

  async request<T>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; contentType?: string } = {},
  ): Promise<T> {
    const url = new URL(path, this.#server);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const opts: https.RequestOptions = { headers: {} };
    await this.#kubeConfig.applyToHTTPSOptions(opts);
    const secure = url.protocol === "https:";
    this.#agent ??= secure
      ? new https.Agent({
          keepAlive: true,
          maxSockets: 64,
          ca: opts.ca,
          cert: opts.cert,
          key: opts.key,
          rejectUnauthorized: opts.rejectUnauthorized,
          servername: opts.servername,
        })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: http.OutgoingHttpHeaders = {
      ...(opts.headers as http.OutgoingHttpHeaders),
      accept: "application/json",
    };
    if (payload) {
      headers["content-type"] = options.contentType ?? "application/json";
      headers["content-length"] = payload.length;
    }
    const what = `${method} ${url.pathname}`;
    return new Promise<T>((resolve, reject) => {
      const req = (secure ? https : http).request(
        url,
        { method, headers, agent: this.#agent, auth: opts.auth },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let json: unknown;
            let parsed = true;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = false;
            }
            const status = res.statusCode ?? 0;
            // A success that is not JSON (a proxy's page, a text endpoint) is an error, not an empty answer.
            if (status >= 200 && status < 300) {
              if (parsed) resolve(json as T);
              else reject(new Error(`${what}: ${status} answer is not JSON: ${text.slice(0, 200)}`));
            } else
              reject(new KubeApiError(status, (json as KubeStatus) ?? { message: text.slice(0, 200) }, what));
          });
        },
      );
      req.setTimeout(60_000, () => req.destroy(new Error(`${what}: timed out`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  list<T>(path: string, query?: Query): Promise<KubeList<T>> {
    return this.request("GET", path, { query });
  }

  get<T>(path: string): Promise<T> {
    return this.request("GET", path);
  }

  create<T>(collectionPath: string, body: unknown): Promise<T> {
    return this.request("POST", collectionPath, { body });
  }

  mergePatch<T>(path: string, patch: unknown): Promise<T> {
    return this.request("PATCH", path, { body: patch, contentType: MERGE_PATCH });
  }

  delete(
    path: string,
    options: { propagationPolicy?: "Background" | "Foreground" | "Orphan"; uid?: string } = {},
  ) {
    const body: Record<string, unknown> = { kind: "DeleteOptions", apiVersion: "v1" };
    if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
    if (options.uid) body.preconditions = { uid: options.uid };
    return this.request<unknown>("DELETE", path, { body });
  }

  close(): void {
    this.#agent?.destroy();
  }
}

/** /api/v1[/namespaces/<ns>]/<plural>[/<name>] or /apis/<group>/<version>/…: where a resource lives. */
export function resourcePath(apiVersion: string, plural: string, namespace?: string, name?: string): string {
  let path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  if (namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${plural}`;
  if (name) path += `/${encodeURIComponent(name)}`;
  return path;
}
