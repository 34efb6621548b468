import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { probeLoop } from "./probe-loop.ts";
import { probe } from "./probes.ts";
import { terminationMessage } from "./termination.ts";

const target = (port: number) => ({
  pid: 0,
  env: new Map<string, string>(),
  container: { name: "c", ports: [{ name: "http", containerPort: port }] },
  podIP: "127.0.0.1",
  identity: { uid: 0, gid: 0, groups: [0], capabilities: "all" as const },
  workingDir: "/",
});

async function server(status: () => number): Promise<{ port: number; close: () => Promise<void> }> {
  const s = http.createServer((_req, res) => {
    res.statusCode = status();
    res.end();
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { port: (s.address() as AddressInfo).port, close: () => new Promise((r) => s.close(() => r())) };
}

describe("probes", () => {
  test("httpGet: 2xx/3xx pass, others fail; named ports; tcpSocket", async () => {
    let code = 204;
    const s = await server(() => code);
    try {
      assert.deepEqual(await probe({ httpGet: { port: "http", path: "/healthz" } }, target(s.port)), {
        ok: true,
      });
      code = 503;
      assert.deepEqual(await probe({ httpGet: { port: s.port } }, target(s.port)), {
        ok: false,
        message: "HTTP probe failed with statuscode: 503",
      });
      assert.deepEqual(await probe({ tcpSocket: { port: s.port } }, target(s.port)), { ok: true });
    } finally {
      await s.close();
    }
    const closed = await probe({ tcpSocket: { port: s.port } }, target(s.port));
    assert.equal(closed.ok, false);
    assert.match(closed.message ?? "", /ECONNREFUSED/);
    assert.equal((await probe({ grpc: { port: 1 } }, target(1))).ok, false);
  });

  test("probeLoop: thresholds and failure reports", async () => {
    const answers = [500, 500, 200, 200, 500, 500, 500];
    const s = await server(() => answers.shift() ?? 500);
    const results: boolean[] = [];
    const failures: string[] = [];
    const controller = new AbortController();
    try {
      await probeLoop({
        kind: "readiness",
        spec: { httpGet: { port: s.port }, successThreshold: 2, failureThreshold: 3 },
        target: target(s.port),
        signal: controller.signal,
        sleep: async () => {},
        onFailure: (m) => failures.push(m),
        onResult: (ok) => {
          results.push(ok);
          return results.length < 2;
        },
      });
    } finally {
      await s.close();
    }
    // Two failures (below the threshold of 3), two successes → ready; three failures → unready.
    assert.deepEqual(results, [true, false]);
    assert.equal(failures.length, 5);
    assert.equal(failures[0], "Readiness probe failed: HTTP probe failed with statuscode: 500");
  });
});

describe("terminationMessage", () => {
  const log = Array.from({ length: 100 }, (_, i) => ({ line: `line ${i}` }));
  const cases: [string, Parameters<typeof terminationMessage>, string | undefined][] = [
    ["written message", [{}, "done\n", { exitCode: 0 }, log], "done\n"],
    ["capped at 4096 bytes", [{}, "x".repeat(5000), { exitCode: 1 }, log], "x".repeat(4096)],
    ["File policy ignores logs", [{ terminationMessagePolicy: "File" }, "", { exitCode: 1 }, log], undefined],
    [
      "fallback only on failure",
      [{ terminationMessagePolicy: "FallbackToLogsOnError" }, "", { exitCode: 0 }, log],
      undefined,
    ],
    [
      "fallback: last 80 lines",
      [{ terminationMessagePolicy: "FallbackToLogsOnError" }, "", { exitCode: 2 }, log.slice(0, 3)],
      "line 0\nline 1\nline 2\n",
    ],
  ];
  for (const [name, args, want] of cases) test(name, () => assert.equal(terminationMessage(...args), want));

  test("fallback is capped at 2048 bytes", () => {
    const long = Array.from({ length: 80 }, () => ({ line: "y".repeat(100) }));
    const m = terminationMessage(
      { terminationMessagePolicy: "FallbackToLogsOnError" },
      "",
      { exitCode: 1 },
      long,
    );
    assert.equal(m?.length, 2048);
  });
});
