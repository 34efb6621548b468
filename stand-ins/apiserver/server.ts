// The strict test Kubernetes API server: HTTPS (HTTP/2 and HTTP/1.1) on 127.0.0.1 with a CA made at
// start, bearer-token auth, discovery, OpenAPI, built-in kinds and every CRD's resources, watches,
// the garbage collector and the namespace controller — all in memory, in this process.

import type { IncomingMessage } from "node:http";
import { createSecureServer, type Http2ServerRequest, type Http2Session } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "../../lib/log.ts";
import { silentLogger } from "../../lib/log.ts";
import { builtinTypes } from "./builtins.ts";
import { CRDCleanup } from "./crd-cleanup.ts";
import { syncCustomResources } from "./custom-resources.ts";
import {
  AGGREGATED_CONTENT_TYPE,
  aggregatedDiscovery,
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
} from "./discovery.ts";
import { ApiError, badRequest, methodNotAllowed, pathNotFound } from "./errors.ts";
import { ExecServer, isExecPath, type PodExecHandler, rejectUpgrade } from "./exec.ts";
import { GarbageCollector } from "./gc.ts";
import { handleResource } from "./handlers.ts";
import { readObject, sendError, sendJSON } from "./http-io.ts";
import { NamespaceController } from "./namespaces.ts";
import { wantsAggregatedDiscovery } from "./negotiate.ts";
import { randomSuffix } from "./object-meta.ts";
import { defaultEnvironment, type Environment, Objects } from "./objects.ts";
import { OpenAPICache, serveOpenAPI } from "./openapi.ts";
import { addServiceAccountVolume } from "./pod-defaults.ts";
import type { PodSecurityConfiguration } from "./pod-security/config.ts";
import { PodSecurityAdmission } from "./pod-security/plugin.ts";
import { requestAttributes } from "./rbac/attributes.ts";
import { denied } from "./rbac/forbidden.ts";
import { authorizeRequest, type RequestUser } from "./rbac/request-user.ts";
import { startRBAC } from "./rbac/setup.ts";
import type { UserInfo } from "./rbac/user.ts";
import { Registry } from "./registry.ts";
import { parseRequestInfo } from "./request-info.ts";
import { reviewKinds } from "./reviews.ts";
import { Store } from "./storage.ts";
import { type PodLogSource, subresourceHandlers } from "./subresources.ts";
import { makeServingCertificates } from "./tls.ts";
import { Tokens } from "./tokens.ts";
import type { Response } from "./watch.ts";
import { startWorkloads } from "./workload-setup.ts";

export type { ExecRequest, ExecSession, PodExecHandler } from "./exec.ts";
export type { PodLogOptions, PodLogSource } from "./subresources.ts";

export interface TestApiServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Watch events kept per resource; older resourceVersions get 410 Gone. Default 10,000. */
  historySize?: number;
  /** How often watches with allowWatchBookmarks get a BOOKMARK. Default 5 s (kube: about a minute). */
  bookmarkIntervalMs?: number;
  /** The admin bearer token; random by default. */
  adminToken?: string;
  /** Namespaces that exist from the start. */
  namespaces?: string[];
  /** Clock, randomness and uids, for tests that need them fixed. */
  env?: Partial<Environment>;
  logger?: Logger;
  /** The PodSecurity plugin's defaults and exemptions (kube's PodSecurityConfiguration); none by default. */
  podSecurity?: PodSecurityConfiguration;
}

export interface TestApiServer {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** The CA that signed the serving certificate (PEM), for kubeconfigs and clients. */
  readonly caPem: string;
  readonly adminToken: string;
  readonly store: Store;
  readonly registry: Registry;
  /** The object lifecycle (create/update/delete with kube's rules), for in-process callers. */
  readonly objects: Objects;
  readonly tokens: Tokens;
  /** The PodSecurity admission plugin; `auditRecords()` has the audit annotations kube would log. */
  readonly podSecurity: PodSecurityAdmission;
  setPodLogSource(source: PodLogSource | undefined): void;
  /** Lets the process kubelet run `kubectl exec` commands in its containers. */
  setPodExecHandler(handler: PodExecHandler | undefined): void;
  close(): Promise<void>;
}

const VERSION = {
  major: "1",
  minor: "34",
  emulationMajor: "1",
  emulationMinor: "34",
  minCompatibilityMajor: "1",
  minCompatibilityMinor: "33",
  gitVersion: "v1.34.0-kiln-test",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.24.0",
  compiler: "gc",
  platform: "linux/amd64",
};

export async function startTestApiServer(options: TestApiServerOptions = {}): Promise<TestApiServer> {
  const env: Environment = { ...defaultEnvironment, ...options.env };
  const log = options.logger ?? silentLogger();
  const certs = makeServingCertificates(env.now());
  const store = new Store({ historySize: options.historySize });
  const registry = new Registry();
  for (const t of builtinTypes()) registry.add(t);
  const objects = new Objects(store, registry, env);
  const tokens = new Tokens(({ namespace, serviceAccount, pod }) => {
    const live = (collection: string, name: string, uid: string) =>
      store.collection(collection).get(namespace, name)?.metadata.uid === uid;
    return (
      live("/serviceaccounts", serviceAccount.name, serviceAccount.uid) &&
      (!pod || live("/pods", pod.name, pod.uid))
    );
  }, options.adminToken);
  objects.addAdmission((t, o, self) => {
    if (!(t.group === "" && t.resource === "pods")) return;
    const spec = o.spec as { serviceAccountName?: string };
    const sa = self.find(
      registry.find("", "v1", "serviceaccounts")!,
      o.metadata.namespace,
      spec.serviceAccountName ?? "default",
    );
    if (!sa) {
      throw new ApiError(
        403,
        "Forbidden",
        `pods "${o.metadata.name}" is forbidden: error looking up service account ${o.metadata.namespace}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`,
        { name: o.metadata.name, kind: "pods" },
      );
    }
    addServiceAccountVolume(
      o,
      (sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken ?? true,
      randomSuffix(env.random),
    );
  });
  const podSecurity = new PodSecurityAdmission(objects, options.podSecurity);
  objects.addValidatingAdmission(podSecurity.admission);
  const rbac = startRBAC(objects, log);
  const stopCRDs = syncCustomResources(store, registry);
  const openapi = new OpenAPICache(registry);
  const gc = new GarbageCollector(objects, log);
  gc.start();
  const workloads = startWorkloads(objects, log);
  const crdCleanup = new CRDCleanup(objects, log);
  crdCleanup.start();
  const namespaces = new NamespaceController(objects, certs.caPem, log);
  namespaces.start();
  const nsType = registry.find("", "v1", "namespaces")!;
  for (const name of options.namespaces ?? [
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "kiln",
  ]) {
    objects.create(nsType, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }

  let podLogSource: PodLogSource | undefined;
  let podExecHandler: PodExecHandler | undefined;
  const exec = new ExecServer(
    objects,
    () => podExecHandler,
    (message) => log.warn(message),
  );
  const subresources = {
    ...subresourceHandlers(objects, tokens, () => podLogSource),
    ...workloads.subresources,
  };
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 5000;
  const reviews = reviewKinds(tokens, rbac.authorizer);
  const nowSeconds = () => Math.floor(env.now().getTime() / 1000);
  let address = "";

  async function route(req: Http2ServerRequest | IncomingMessage, res: Response): Promise<void> {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const acting = authorizeRequest(req, url, tokens, rbac.authorizer, nowSeconds());
    if ("internalError" in acting) return sendInternalError(req, res, acting.internalError);
    const user = acting.user;
    const accept = req.headers.accept as string | undefined;
    switch (path) {
      case "/version":
        return sendJSON(res, 200, VERSION);
      case "/healthz":
      case "/livez":
      case "/readyz":
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
        res.end("ok");
        return;
      case "/api":
        if (wantsAggregatedDiscovery(accept))
          return sendJSON(res, 200, aggregatedDiscovery(registry, true, reviews), {
            "content-type": AGGREGATED_CONTENT_TYPE,
          });
        return sendJSON(res, 200, apiVersions(address));
      case "/apis":
        if (wantsAggregatedDiscovery(accept))
          return sendJSON(res, 200, aggregatedDiscovery(registry, false, reviews), {
            "content-type": AGGREGATED_CONTENT_TYPE,
          });
        return sendJSON(res, 200, apiGroupList(registry, reviews));
    }
    if (path.startsWith("/openapi/")) return serveOpenAPI(req, res, url, openapi);
    const parts = path.split("/").filter(Boolean);
    if (parts[0] === "api" && parts.length === 2) {
      const doc = apiResourceList(registry, "", parts[1]!, reviews);
      if (!doc) throw pathNotFound();
      return sendJSON(res, 200, doc);
    }
    if (parts[0] === "apis" && parts.length === 2) {
      const doc = apiGroupDocument(registry, parts[1]!, reviews);
      if (!doc) throw pathNotFound();
      return sendJSON(res, 200, doc);
    }
    if (parts[0] === "apis" && parts.length === 3) {
      const doc = apiResourceList(registry, parts[1]!, parts[2]!, reviews);
      if (!doc) throw pathNotFound();
      return sendJSON(res, 200, doc);
    }
    const info = parseRequestInfo(req.method ?? "GET", url);
    if (!info) throw pathNotFound();
    const review = reviews.find(
      (r) => r.group === info.group && r.version === info.version && r.resource === info.resource,
    );
    if (review) {
      if ((review.namespaced ?? false) !== (info.namespace !== undefined)) throw pathNotFound();
      if (info.verb !== "create" || info.name !== undefined) {
        throw methodNotAllowed(info.verb, { group: review.group, resource: review.resource });
      }
      const body = await readObject(req);
      if (!body || typeof body !== "object" || Array.isArray(body))
        throw badRequest("the body of the request must be a JSON object");
      return sendJSON(
        res,
        201,
        review.answer(body as Record<string, unknown>, { user, namespace: info.namespace, now: env.now() }),
      );
    }
    await handleResource(req, res, info, url, { objects, bookmarkIntervalMs, subresources, user });
  }

  // A WebSocket exec is a GET, authorized as `get pods/exec` like every request; kube 1.35 also checks
  // `create` (AuthorizePodWebsocketUpgradeCreatePermission), which SPDY's POST always needed: both here.
  const authorizeExecCreate = (user: UserInfo, url: URL) => {
    const attributes = requestAttributes(user, "POST", url);
    const decision = rbac.authorizer.authorize(attributes);
    if (!decision.allowed) throw denied(attributes, decision.reason);
  };

  const server = createSecureServer(
    { cert: certs.certPem, key: certs.keyPem, allowHTTP1: true },
    (req, res) => {
      route(req, res as unknown as Response).catch((error: unknown) => {
        if (!(error instanceof ApiError))
          log.error({ err: error, method: req.method, path: req.url?.split("?")[0] }, "request failed");
        sendError(res as unknown as Response, error);
      });
    },
  );
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    let acting: RequestUser;
    try {
      acting = authorizeRequest(req, url, tokens, rbac.authorizer, nowSeconds());
      if ("internalError" in acting) {
        const text = internalErrorText(req, acting.internalError);
        socket.end(
          `HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
        );
        return;
      }
      // A POST (SPDY) was authorized as create already; only the WebSocket GET needs the second check.
      if (isExecPath(url.pathname) && req.method === "GET") authorizeExecCreate(acting.user, url);
    } catch (error) {
      if (error instanceof ApiError) rejectUpgrade(socket, error);
      else socket.destroy();
      return;
    }
    if (!isExecPath(url.pathname)) {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    exec.upgrade(req, socket, head, url).catch((error: unknown) => {
      log.error({ err: error }, "exec failed");
      socket.destroy();
    });
  });
  const sockets = new Set<Socket>();
  const sessions = new Set<Http2Session>();
  server.on("secureConnection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("session", (session: Http2Session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  address = `127.0.0.1:${port}`;
  log.info({ url: `https://${address}` }, "test API server listening");

  return {
    url: `https://${address}`,
    port,
    caPem: certs.caPem,
    adminToken: tokens.adminToken,
    store,
    registry,
    objects,
    tokens,
    podSecurity,
    setPodLogSource(source) {
      podLogSource = source;
    },
    setPodExecHandler(handler) {
      podExecHandler = handler;
    },
    async close() {
      rbac.close();
      gc.stop();
      workloads.stop();
      crdCleanup.stop();
      namespaces.stop();
      stopCRDs();
      for (const c of store.allCollections()) for (const w of [...c.watchers]) w.close?.();
      exec.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** http.Error's plain-text 500, as kube's filters answer what they cannot handle. */
function internalErrorText(req: { url?: string }, message: string): string {
  return `Internal Server Error: ${JSON.stringify(req.url ?? "/")}: ${message}\n`;
}

function sendInternalError(req: { url?: string }, res: Response, message: string): void {
  const text = internalErrorText(req, message);
  res.writeHead(500, {
    "content-type": "text/plain; charset=utf-8",
    "x-content-type-options": "nosniff",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}
