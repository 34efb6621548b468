// pods/exec: the request's parameters and pod checked, the process started by the process kubelet in
// the same process (setPodExecHandler), then the connection upgraded to one of the two streaming
// protocols kubectl speaks — a WebSocket (exec-websocket.ts, tried first) or SPDY/3.1
// (exec-spdy.ts, its fallback) — which carry the streams (exec-session.ts); the server only carries them.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { ApiError, badRequest, notFound } from "./errors.ts";
import type { ExecRequest, ExecSession, PodExecHandler } from "./exec-session.ts";
import { SPDY_PROTOCOLS, serveSpdy, spdyUpgradeResponse } from "./exec-spdy.ts";
import { serveWebSocket, WEBSOCKET_PROTOCOLS } from "./exec-websocket.ts";
import type { Objects } from "./objects.ts";

export type { ExecRequest, ExecSession, PodExecHandler } from "./exec-session.ts";

const EXEC_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/;

export function isExecPath(pathname: string): boolean {
  return EXEC_PATH.test(pathname);
}

export function rejectUpgrade(socket: Duplex, error: ApiError): void {
  const body = JSON.stringify(error.toStatus());
  socket.end(
    `HTTP/1.1 ${error.code} ${error.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function bool(query: URLSearchParams, name: string): boolean {
  return ["1", "true"].includes(query.get(name) ?? "");
}

function commaList(value: string | string[] | undefined): string[] {
  return (Array.isArray(value) ? value.join(",") : (value ?? ""))
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

type Upgrade = { kind: "websocket" } | { kind: "spdy"; protocol: string };

/** Which protocol the client asks for, negotiated as kube does; an ApiError when none can be served. */
export function negotiate(headers: IncomingMessage["headers"]): Upgrade {
  const upgrade = String(headers.upgrade ?? "").toLowerCase();
  if (upgrade === "websocket") {
    const offered = commaList(headers["sec-websocket-protocol"]);
    if (!WEBSOCKET_PROTOCOLS.some((p) => offered.includes(p))) {
      throw badRequest(
        `no supported WebSocket subprotocol among ${JSON.stringify(offered)}; supported: ${WEBSOCKET_PROTOCOLS.join(", ")}`,
      );
    }
    return { kind: "websocket" };
  }
  if (
    upgrade.includes("spdy/3.1") &&
    String(headers.connection ?? "")
      .toLowerCase()
      .includes("upgrade")
  ) {
    // httpstream.Handshake: X-Stream-Protocol-Version required, the first the client offers that we serve.
    const offered = commaList(headers["x-stream-protocol-version"]);
    if (offered.length === 0) throw badRequest("unable to upgrade: X-Stream-Protocol-Version is required");
    const protocol = offered.find((p) => SPDY_PROTOCOLS.includes(p));
    if (!protocol) {
      throw new ApiError(
        403,
        "Forbidden",
        `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(" ")}], server accepts [${SPDY_PROTOCOLS.join(" ")}]`,
      );
    }
    return { kind: "spdy", protocol };
  }
  throw badRequest(
    `unable to upgrade: pods/exec is served over a WebSocket (${WEBSOCKET_PROTOCOLS.join(", ")}) or SPDY/3.1 (${SPDY_PROTOCOLS.join(", ")})`,
  );
}

export class ExecServer {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => WEBSOCKET_PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  private readonly objects: Objects;
  private readonly handler: () => PodExecHandler | undefined;
  private readonly log: (message: string) => void;
  /** Drops each open connection (on close). */
  private readonly connections = new Set<() => void>();

  constructor(
    objects: Objects,
    handler: () => PodExecHandler | undefined,
    log: (message: string) => void = () => {},
  ) {
    this.objects = objects;
    this.handler = handler;
    this.log = log;
  }

  /** Handles an HTTP upgrade already authenticated by the caller. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    let request: ExecRequest;
    let upgrade: Upgrade;
    let session: ExecSession | undefined;
    try {
      request = this.parse(url);
      upgrade = negotiate(req.headers);
      session = await this.handler()?.(request);
      if (!session) {
        throw badRequest(`unable to upgrade connection: container not found ("${request.container}")`);
      }
    } catch (error) {
      rejectUpgrade(socket, error instanceof ApiError ? error : badRequest(String(error)));
      return;
    }
    const running = session;
    if (upgrade.kind === "spdy") {
      socket.write(spdyUpgradeResponse(upgrade.protocol));
      const drop = serveSpdy(socket, head, request, running, { onError: this.log });
      this.connections.add(drop);
      socket.on("close", () => this.connections.delete(drop));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const drop = () => ws.terminate();
      this.connections.add(drop);
      ws.on("close", () => this.connections.delete(drop));
      serveWebSocket(ws, request, running);
    });
  }

  private parse(url: URL): ExecRequest {
    const m = EXEC_PATH.exec(url.pathname)!;
    const namespace = decodeURIComponent(m[1]!);
    const name = decodeURIComponent(m[2]!);
    const pods = this.objects.registry.find("", "v1", "pods")!;
    const pod = this.objects.find(pods, namespace, name);
    if (!pod) throw notFound({ group: "", resource: "pods", name });
    const containers = ((pod.spec as { containers?: { name: string }[] } | undefined)?.containers ?? []).map(
      (c) => c.name,
    );
    const container =
      url.searchParams.get("container") ||
      pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"] ||
      containers[0] ||
      "";
    const command = url.searchParams.getAll("command");
    if (command.length === 0) throw badRequest("you must specify at least 1 command");
    const q = url.searchParams;
    const tty = bool(q, "tty");
    // The kubelet's NewOptions: a terminal has no separate stderr.
    const stderr = bool(q, "stderr") && !tty;
    if (!bool(q, "stdin") && !bool(q, "stdout") && !stderr)
      throw badRequest("you must specify at least 1 of stdin, stdout, stderr");
    return {
      namespace,
      pod: name,
      container,
      command,
      stdin: bool(q, "stdin"),
      stdout: bool(q, "stdout"),
      stderr,
      tty,
    };
  }

  close(): void {
    for (const drop of this.connections) drop();
    this.wss.close();
  }
}
