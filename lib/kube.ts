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
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const { res, what } = await this.#open(method, path, {
      query: options.query,
      payload,
      contentType: options.contentType,
      timeoutMs: 60_000,
    });
    const text = await readText(res);
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // A success that is not JSON (a proxy's page, a text endpoint) is an error, not an empty answer.
      throw new Error(`${what}: ${res.statusCode} answer is not JSON: ${text.slice(0, 200)}`);
    }
    return json as T;
  }

  /**
   * A GET whose answer is read as it comes (a pod's log, `follow=true`): the response once it is a 2xx, else
   * the KubeApiError with the Status, as request gives. No idle timeout (a followed log may be quiet for
   * long); `signal` ends it.
   */
  async stream(path: string, query?: Query, signal?: AbortSignal): Promise<http.IncomingMessage> {
    return (await this.#open("GET", path, { query, signal, accept: "*/*" })).res;
  }

  /** Sends one request; resolves with a 2xx response unread, rejects with the error of any other. */
  async #open(
    method: string,
    path: string,
    options: {
      query?: Query;
      payload?: Buffer;
      contentType?: string;
      accept?: string;
      timeoutMs?: number;
      signal?: AbortSignal;
    },
  ): Promise<{ res: http.IncomingMessage; what: string }> {
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
    const { payload } = options;
    const headers: http.OutgoingHttpHeaders = {
      ...(opts.headers as http.OutgoingHttpHeaders),
      accept: options.accept ?? "application/json",
    };
    if (payload) {
      headers["content-type"] = options.contentType ?? "application/json";
      headers["content-length"] = payload.length;
    }
    const what = `${method} ${url.pathname}`;
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(
        url,
        { method, headers, agent: this.#agent, auth: opts.auth, signal: options.signal },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve({ res, what });
            return;
          }
          readText(res).then((text) => {
            let body: KubeStatus;
            try {
              body = JSON.parse(text) as KubeStatus;
            } catch {
              body = { message: text.slice(0, 200) };
            }
            reject(new KubeApiError(status, body ?? { message: "" }, what));
          }, reject);
        },
      );
      if (options.timeoutMs !== undefined)
        req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`${what}: timed out`)));
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

function readText(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("error", reject);
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

/** /api/v1[/namespaces/<ns>]/<plural>[/<name>] or /apis/<group>/<version>/…: where a resource lives. */
export function resourcePath(apiVersion: string, plural: string, namespace?: string, name?: string): string {
  let path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  if (namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${plural}`;
  if (name) path += `/${encodeURIComponent(name)}`;
  return path;
}
