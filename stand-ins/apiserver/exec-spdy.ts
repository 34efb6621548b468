// pods/exec over SPDY/3.1, streaming protocol v4.channel.k8s.io, as the kubelet serves it — kubectl's
// executor with `KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false`, and its fallback when a WebSocket upgrade
// fails. The client opens one stream per channel, named by its `streamType` header: error, stdin,
// stdout, stderr (never with a tty), resize (only with a tty); the server answers each SYN_STREAM with
// a SYN_REPLY, and once every stream the request implies is there the output flows (held until then).
// At the end stdout and stderr are closed, the error stream carries the Status (JSON) and is closed, and
// a GOAWAY ends the connection — what the kubelet's ServeExec and spdystream's Close do.
import type { Duplex } from "node:stream";
import { ExecInput, type ExecRequest, type ExecSession, pumpOutput } from "./exec-session.ts";
import { type Frame, FrameDecoder, FrameEncoder, PROTOCOL_ERROR, SpdyError } from "./spdy.ts";

export const SPDY_PROTOCOLS = ["v4.channel.k8s.io"];

/** The kubelet's default (streaming.DefaultConfig.StreamCreationTimeout). */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

type StreamType = "error" | "stdin" | "stdout" | "stderr" | "resize";
const STREAM_TYPES: readonly string[] = ["error", "stdin", "stdout", "stderr", "resize"];

/** The streams a client of this request must open (kube's createHTTPStreamStreams counts them so). */
export function expectedStreams(request: ExecRequest): StreamType[] {
  return [
    "error",
    ...(request.stdin ? (["stdin"] as const) : []),
    ...(request.stdout ? (["stdout"] as const) : []),
    ...(request.stderr ? (["stderr"] as const) : []),
    ...(request.tty ? (["resize"] as const) : []),
  ];
}

export function spdyUpgradeResponse(protocol: string): string {
  return [
    "HTTP/1.1 101 Switching Protocols",
    "Connection: Upgrade",
    "Upgrade: SPDY/3.1",
    `X-Stream-Protocol-Version: ${protocol}`,
    "",
    "",
  ].join("\r\n");
}

export interface SpdyOptions {
  streamCreationTimeoutMs?: number;
  /** Why the connection failed (a protocol error, streams never opened), for the server's log. */
  onError?(message: string): void;
}

/** Serves an upgraded connection (the 101 is already written); returns a function that drops it. */
export function serveSpdy(
  socket: Duplex,
  head: Buffer,
  request: ExecRequest,
  session: ExecSession,
  options: SpdyOptions = {},
): () => void {
  const decoder = new FrameDecoder();
  const encoder = new FrameEncoder();
  const input = new ExecInput(session);
  const streams = new Map<number, StreamType>();
  const ids = new Map<StreamType, number>();
  const expected = expectedStreams(request);
  let lastStreamId = 0;
  let ready = false;
  let closed = false;
  /** Output and the end, held until every expected stream is open. */
  let held: (() => void)[] = [];
  /** The output pump, waiting for the connection to take more (streams open, socket drained). */
  let waiting: (() => void)[] = [];
  const wake = () => {
    const resume = waiting;
    waiting = [];
    for (const r of resume) r();
  };

  const write = (bytes: Buffer): boolean => (closed ? true : socket.write(bytes));
  /** Ends the connection before the command did: the command is stopped (the client is gone). */
  const drop = (why?: string) => {
    clearTimeout(timer);
    if (closed) return;
    closed = true;
    if (why) options.onError?.(why);
    socket.destroy();
    session.kill();
    wake();
  };
  const timer = setTimeout(
    () => drop("timed out waiting for client to create streams"),
    options.streamCreationTimeoutMs ?? STREAM_CREATION_TIMEOUT_MS,
  );
  const whenReady = (action: () => void) => {
    if (ready) action();
    else held.push(action);
  };

  const onFrame = (frame: Frame) => {
    switch (frame.type) {
      case "syn_stream": {
        // Client streams are odd and increasing (spdystream's validateStreamId on the other side).
        if (frame.streamId % 2 === 0 || frame.streamId <= lastStreamId) {
          write(encoder.rstStream(frame.streamId, PROTOCOL_ERROR));
          return;
        }
        lastStreamId = frame.streamId;
        write(encoder.synReply(frame.streamId));
        const type = frame.headers.get("streamtype")?.[0] ?? "";
        // An unknown type is answered and ignored, as the kubelet logs and ignores it.
        if (!STREAM_TYPES.includes(type)) return;
        streams.set(frame.streamId, type as StreamType);
        ids.set(type as StreamType, frame.streamId);
        if (frame.fin && type === "stdin") input.endStdin();
        if (!ready && expected.every((t) => ids.has(t))) {
          ready = true;
          clearTimeout(timer);
          const actions = held;
          held = [];
          for (const action of actions) action();
          wake();
        }
        return;
      }
      case "data": {
        const type = streams.get(frame.streamId);
        if (type === "stdin") {
          if (frame.data.length > 0) input.stdin(frame.data);
          if (frame.fin) input.endStdin();
        } else if (type === "resize") input.resize(frame.data);
        return;
      }
      case "rst_stream":
        if (streams.get(frame.streamId) === "stdin") input.endStdin();
        return;
      case "ping":
        // The client's pings are odd; an even one would answer a ping of ours (we send none).
        if (frame.id % 2 === 1) write(encoder.ping(frame.id));
        return;
      default:
        // GOAWAY: the client leaves, and its socket's end follows. SETTINGS, WINDOW_UPDATE: nothing to do.
        return;
    }
  };

  const onData = (chunk: Buffer) => {
    let frames: Frame[];
    try {
      frames = decoder.push(chunk);
    } catch (error) {
      if (!(error instanceof SpdyError)) throw error;
      write(encoder.goAway(lastStreamId, PROTOCOL_ERROR));
      return drop(`SPDY protocol error: ${error.message}`);
    }
    for (const frame of frames) onFrame(frame);
  };
  socket.on("data", onData);
  // After the end has been sent, the client's own close is all that is left to happen.
  socket.on("error", () => drop());
  socket.on("end", () => drop());
  socket.on("close", () => drop());
  if (head.length > 0) onData(head);

  socket.on("drain", wake);
  const send = (type: StreamType, data: Buffer, fin = false): boolean => {
    const id = ids.get(type);
    return id === undefined ? true : write(encoder.data(id, data, fin));
  };
  pumpOutput(request, session, {
    send: (stream, data) => {
      if (ready) return send(stream, data);
      held.push(() => send(stream, data));
      return false; // nothing more until the streams are there
    },
    drained: () =>
      new Promise((resolve) => {
        const check = () => {
          if (closed || (ready && !socket.writableNeedDrain)) resolve();
          else waiting.push(check);
        };
        check();
      }),
    finish: (status) =>
      whenReady(() => {
        for (const type of ["stdout", "stderr"] as const) send(type, Buffer.alloc(0), true);
        send("error", Buffer.from(JSON.stringify(status)), true);
        for (const type of ["stdin", "resize"] as const) send(type, Buffer.alloc(0), true);
        write(encoder.goAway(lastStreamId));
        closed = true;
        socket.end();
      }),
  });
  return () => {
    drop();
    socket.destroy();
  };
}
