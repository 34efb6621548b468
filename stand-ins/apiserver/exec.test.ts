// Which streaming protocol an exec upgrade gets, and which SPDY streams a request implies.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ApiError } from "./errors.ts";
import { negotiate } from "./exec.ts";
import type { ExecRequest } from "./exec-session.ts";
import { expectedStreams } from "./exec-spdy.ts";

function outcome(headers: Record<string, string>): string {
  try {
    const u = negotiate(headers);
    return u.kind === "spdy" ? `spdy ${u.protocol}` : u.kind;
  } catch (error) {
    assert.ok(error instanceof ApiError);
    return `${error.code} ${error.message}`;
  }
}

describe("exec upgrades", () => {
  const spdy = { connection: "Upgrade", upgrade: "SPDY/3.1" };
  const cases: [string, Record<string, string>, string | RegExp][] = [
    [
      "kubectl's WebSocket",
      { upgrade: "websocket", "sec-websocket-protocol": "v5.channel.k8s.io, v4.channel.k8s.io" },
      "websocket",
    ],
    [
      "a WebSocket with v4 only",
      { upgrade: "WebSocket", "sec-websocket-protocol": "v4.channel.k8s.io" },
      "websocket",
    ],
    [
      "a WebSocket without our subprotocols",
      { upgrade: "websocket", "sec-websocket-protocol": "channel.k8s.io" },
      /^400 no supported WebSocket subprotocol/,
    ],
    // kubectl repeats the header; Node joins repeated headers with ", ".
    [
      "kubectl's SPDY",
      {
        ...spdy,
        "x-stream-protocol-version":
          "v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io",
      },
      "spdy v4.channel.k8s.io",
    ],
    ["SPDY without a protocol version", spdy, "400 unable to upgrade: X-Stream-Protocol-Version is required"],
    [
      "SPDY with only older versions",
      { ...spdy, "x-stream-protocol-version": "v3.channel.k8s.io, v2.channel.k8s.io" },
      "403 unable to upgrade: unable to negotiate protocol: client supports [v3.channel.k8s.io v2.channel.k8s.io], server accepts [v4.channel.k8s.io]",
    ],
    [
      "SPDY without Connection: Upgrade",
      { upgrade: "SPDY/3.1", "x-stream-protocol-version": "v4.channel.k8s.io" },
      /^400 unable to upgrade: pods\/exec is served over/,
    ],
    [
      "no upgrade at all",
      {},
      /^400 unable to upgrade: pods\/exec is served over a WebSocket .* or SPDY\/3.1/,
    ],
  ];
  for (const [name, headers, expected] of cases) {
    test(name, () => {
      if (typeof expected === "string") assert.equal(outcome(headers), expected);
      else assert.match(outcome(headers), expected);
    });
  }

  test("the SPDY streams a request implies (a tty: resize, never stderr)", () => {
    const request = (r: Partial<ExecRequest>): ExecRequest => ({
      namespace: "ns",
      pod: "p",
      container: "c",
      command: ["sh"],
      stdin: false,
      stdout: false,
      stderr: false,
      tty: false,
      ...r,
    });
    assert.deepEqual(expectedStreams(request({ stdout: true, stderr: true })), ["error", "stdout", "stderr"]);
    assert.deepEqual(expectedStreams(request({ stdin: true, stdout: true, tty: true })), [
      "error",
      "stdin",
      "stdout",
      "resize",
    ]);
    assert.deepEqual(expectedStreams(request({ stdin: true })), ["error", "stdin"]);
  });
});
