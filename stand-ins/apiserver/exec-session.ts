// What pods/exec's two streaming protocols share (exec-websocket.ts: v5/v4.channel.k8s.io over a
// WebSocket; exec-spdy.ts: v4.channel.k8s.io over SPDY/3.1): the request, the session the process
// kubelet hands back (setPodExecHandler), and the pump between the two — output with back-pressure,
// stdin and its end, terminal sizes, and the closing Status the kubelet writes on v4's error stream.
import type { Readable, Writable } from "node:stream";
import type { Status } from "./errors.ts";
import { TerminalSizeDecoder } from "./terminal-size.ts";

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  /** Never with a tty: the terminal carries both outputs (the kubelet drops stderr then). */
  stderr: boolean;
  tty: boolean;
}

export interface ExecSession {
  stdin?: Writable;
  stdout?: Readable;
  stderr?: Readable;
  /** A tty's new window size (the client's resize channel). */
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

/** Where a protocol carries the command's output and its end. */
export interface ExecOutput {
  /** False when the connection is backed up: the pump waits for `drained` before reading on. */
  send(stream: "stdout" | "stderr", data: Buffer): boolean;
  drained(): Promise<void>;
  /** The command ended and its output is out: the Status, then the connection closes. */
  finish(status: Partial<Status>): void;
}

/** The Status of v4's error stream, as the kubelet writes it for an exit code. */
export function exitStatus(code: number, command: string[]): Partial<Status> {
  if (code === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${command.join(" ")}], exit code ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

/** Streams the session's output to the client, then its Status. */
export function pumpOutput(request: ExecRequest, session: ExecSession, out: ExecOutput): void {
  const forward = (stream: Readable | undefined, channel: "stdout" | "stderr") =>
    new Promise<void>((resolve) => {
      if (!stream) return resolve();
      stream.on("data", (chunk: Buffer) => {
        if (out.send(channel, Buffer.from(chunk))) return;
        stream.pause();
        void out.drained().then(() => stream.resume());
      });
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", () => resolve());
    });
  // With a tty the terminal is stdout; what reaches stderr then is the runtime's own (nsenter, the init).
  const outputs = Promise.all([
    forward(session.stdout, "stdout"),
    forward(session.stderr, request.tty ? "stdout" : "stderr"),
  ]);
  void Promise.all([session.exit, outputs]).then(
    ([code]) => out.finish(exitStatus(code, request.command)),
    (error: unknown) =>
      out.finish({ metadata: {}, status: "Failure", message: String(error), reason: "InternalError" }),
  );
}

/** What the client sends, delivered to the session: stdin and its end, terminal sizes. */
export class ExecInput {
  private readonly session: ExecSession;
  private readonly sizes = new TerminalSizeDecoder();

  constructor(session: ExecSession) {
    this.session = session;
    // A command that exits while the client still types: EPIPE on its stdin is no server error.
    session.stdin?.on("error", () => {});
  }

  stdin(data: Buffer): void {
    const stdin = this.session.stdin;
    if (stdin && !stdin.writableEnded && !stdin.destroyed) stdin.write(data);
  }

  endStdin(): void {
    this.session.stdin?.end();
  }

  resize(data: Buffer): void {
    for (const size of this.sizes.push(data)) this.session.resize?.(size.width, size.height);
  }
}
