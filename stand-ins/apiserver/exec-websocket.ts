// pods/exec over a WebSocket (v5.channel.k8s.io, v4.channel.k8s.io: what kubectl 1.34 tries first):
// each binary message starts with its channel — 0 stdin, 1 stdout, 2 stderr, 3 the closing Status,
// 4 terminal size, 255 "this channel is closed" (v5 only; kubectl sends it for stdin at EOF).
import type { WebSocket } from "ws";
import { ExecInput, type ExecRequest, type ExecSession, pumpOutput } from "./exec-session.ts";

export const WEBSOCKET_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/** Output bytes queued in the socket beyond which the command's output waits. */
const HIGH_WATER = 1 << 20;

export function serveWebSocket(ws: WebSocket, request: ExecRequest, session: ExecSession): void {
  const v5 = ws.protocol === "v5.channel.k8s.io";
  const input = new ExecInput(session);
  let queued = 0;
  let waiting: (() => void)[] = [];
  const release = () => {
    const resume = waiting;
    waiting = [];
    for (const r of resume) r();
  };
  const send = (channel: number, data: Buffer): boolean => {
    if (ws.readyState !== ws.OPEN) return true; // nobody listens: the output is dropped
    const message = Buffer.concat([Buffer.from([channel]), data]);
    queued += message.length;
    ws.send(message, () => {
      queued -= message.length;
      if (queued < HIGH_WATER) release();
    });
    return queued < HIGH_WATER;
  };
  ws.on("message", (raw: Buffer) => {
    const data = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as ArrayBuffer);
    if (data.length === 0) return;
    const channel = data[0];
    if (channel === 0) input.stdin(data.subarray(1));
    else if (channel === 4) input.resize(data.subarray(1));
    else if (channel === 255 && v5 && data[1] === 0) input.endStdin();
  });
  let finished = false;
  ws.on("close", () => {
    release();
    if (!finished) session.kill();
  });
  pumpOutput(request, session, {
    // Output of a stream the client did not ask for goes nowhere.
    send: (stream, data) => (request[stream] ? send(stream === "stdout" ? 1 : 2, data) : true),
    drained: () =>
      new Promise((resolve) => {
        if (queued < HIGH_WATER || ws.readyState !== ws.OPEN) resolve();
        else waiting.push(resolve);
      }),
    finish: (status) => {
      finished = true;
      send(3, Buffer.from(JSON.stringify(status)));
      ws.close(1000);
    },
  });
}
