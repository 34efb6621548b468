// pods/exec over WebSocket (the v5/v4.channel.k8s.io protocols kubectl 1.34 speaks): each binary message
// starts with its channel — 0 stdin, 1 stdout, 2 stderr, 3 the closing Status, 4 terminal resize,
// 255 "this channel is closed" (v5). The process behind it comes from the process kubelet in the same
// process (setPodExecHandler); the server only carries the streams.
import type { IncomingMessage } from "node:http";
import type { Duplex, Readable, Writable } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { ApiError, badRequest, notFound } from "./errors.ts";
import type { Objects } from "./objects.ts";

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface ExecSession {
  stdin?: Writable;
  stdout?: Readable;
  stderr?: Readable;
  resize?(columns: number, rows: number): void;
  /** The command's exit code. */
  exit: Promise<number>;
  /** The client went away: stop the command. */
  kill(): void;
}

/** Returns undefined when the container is not running (the client gets 400, as from kube). */
export type PodExecHandler = (
  request: ExecRequest,
) => ExecSession | undefined | Promise<ExecSession | undefined>;

const PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
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

function exitStatus(code: number, command: string[]): unknown {
  if (code === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${command.join(" ")}], exit code ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

export class ExecServer {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  private readonly objects: Objects;
  private readonly handler: () => PodExecHandler | undefined;
  private readonly sockets = new Set<WebSocket>();

  constructor(objects: Objects, handler: () => PodExecHandler | undefined) {
    this.objects = objects;
    this.handler = handler;
  }

  /** Handles an HTTP upgrade already authenticated by the caller. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    let request: ExecRequest;
    let session: ExecSession | undefined;
    try {
      request = this.parse(url);
      if (String(req.headers.upgrade ?? "").toLowerCase() !== "websocket") {
        throw badRequest("pods/exec is served over WebSocket only (v5.channel.k8s.io, v4.channel.k8s.io)");
      }
      const offered = String(req.headers["sec-websocket-protocol"] ?? "")
        .split(",")
        .map((p) => p.trim());
      if (!PROTOCOLS.some((p) => offered.includes(p))) {
        throw badRequest(
          `no supported WebSocket subprotocol among ${JSON.stringify(offered)}; supported: ${PROTOCOLS.join(", ")}`,
        );
      }
      session = await this.handler()?.(request);
      if (!session) {
        throw badRequest(`unable to upgrade connection: container not found ("${request.container}")`);
      }
    } catch (error) {
      rejectUpgrade(socket, error instanceof ApiError ? error : badRequest(String(error)));
      return;
    }
    const running = session;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, request, running));
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
    if (!bool(q, "stdin") && !bool(q, "stdout") && !bool(q, "stderr"))
      throw badRequest("you must specify at least 1 of stdin, stdout, stderr");
    return {
      namespace,
      pod: name,
      container,
      command,
      stdin: bool(q, "stdin"),
      stdout: bool(q, "stdout"),
      stderr: bool(q, "stderr"),
      tty: bool(q, "tty"),
    };
  }

  private serve(ws: WebSocket, request: ExecRequest, session: ExecSession): void {
    this.sockets.add(ws);
    const v5 = ws.protocol === "v5.channel.k8s.io";
    const send = (channel: number, data: Buffer) => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
    };
    ws.on("message", (raw: Buffer) => {
      const data = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as ArrayBuffer);
      if (data.length === 0) return;
      const channel = data[0];
      if (channel === 0) session.stdin?.write(data.subarray(1));
      else if (channel === 4) {
        try {
          const size = JSON.parse(data.subarray(1).toString()) as { Width?: number; Height?: number };
          if (size.Width && size.Height) session.resize?.(size.Width, size.Height);
        } catch {}
      } else if (channel === 255 && v5 && data[1] === 0) session.stdin?.end();
    });
    let finished = false;
    ws.on("close", () => {
      this.sockets.delete(ws);
      if (!finished) session.kill();
    });
    const drained = (stream: Readable | undefined, channel: number) =>
      new Promise<void>((resolve) => {
        if (!stream) return resolve();
        stream.on("data", (chunk: Buffer) => send(channel, Buffer.from(chunk)));
        stream.on("end", resolve);
        stream.on("close", resolve);
        stream.on("error", () => resolve());
      });
    const outputs = Promise.all([drained(session.stdout, 1), drained(session.stderr, request.tty ? 1 : 2)]);
    void Promise.all([session.exit, outputs]).then(
      ([code]) => {
        finished = true;
        send(3, Buffer.from(JSON.stringify(exitStatus(code, request.command))));
        ws.close(1000);
      },
      (error: unknown) => {
        finished = true;
        send(
          3,
          Buffer.from(
            JSON.stringify({
              metadata: {},
              status: "Failure",
              message: String(error),
              reason: "InternalError",
            }),
          ),
        );
        ws.close(1000);
      },
    );
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
  }
}
