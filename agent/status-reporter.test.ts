import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import type { StepStatus } from "../api/build.ts";
import { silentLogger } from "../lib/log.ts";
import { buildStatusPatcher, StatusReporter } from "./status-reporter.ts";

const step = (name: string, phase: StepStatus["phase"]): StepStatus => ({ name, phase });
const apiError = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });

describe("StatusReporter", () => {
  test("retries transient errors with backoff and ends with the latest records", async () => {
    const sent: StepStatus[][] = [];
    const sleeps: number[] = [];
    let calls = 0;
    const reporter = new StatusReporter({
      log: silentLogger(),
      initialBackoffMs: 10,
      maxBackoffMs: 25,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      patch: async (body) => {
        calls++;
        if (calls <= 4) throw calls % 2 ? apiError(503) : new Error("ECONNRESET");
        sent.push(body.status.steps);
      },
    });
    reporter.update([step("a", "Running")]);
    reporter.update([step("a", "Succeeded")]);
    assert.equal(await reporter.flush(2000), true);
    assert.deepEqual(sent.at(-1), [step("a", "Succeeded")]);
    assert.deepEqual(sleeps, [10, 20, 25, 25]);
    assert.equal(reporter.failures, 4);
  });

  test("coalesces: while one patch is in flight only the newest list is sent next", async () => {
    const sent: string[] = [];
    let release: () => void = () => undefined;
    const reporter = new StatusReporter({
      log: silentLogger(),
      patch: async (body) => {
        sent.push(body.status.steps.map((s) => s.phase).join());
        if (sent.length === 1) await new Promise<void>((r) => (release = r));
      },
    });
    reporter.update([step("a", "Pending")]);
    reporter.update([step("a", "Running")]);
    reporter.update([step("a", "Succeeded")]);
    release();
    assert.equal(await reporter.flush(2000), true);
    assert.deepEqual(sent, ["Pending", "Succeeded"]);
  });

  test("a Build that is gone (404) stops the reporter instead of retrying forever", async () => {
    let calls = 0;
    const reporter = new StatusReporter({
      log: silentLogger(),
      patch: async () => {
        calls++;
        throw apiError(404);
      },
    });
    reporter.update([step("a", "Running")]);
    await reporter.flush(1000);
    reporter.update([step("a", "Succeeded")]);
    await reporter.flush(1000);
    assert.equal(calls, 1);
  });

  test("flush gives up at its deadline while the API is down", async () => {
    const reporter = new StatusReporter({
      log: silentLogger(),
      initialBackoffMs: 5,
      patch: async () => {
        throw apiError(500);
      },
    });
    reporter.update([step("a", "Running")]);
    assert.equal(await reporter.flush(100), false);
    reporter.stop();
  });
});

test("buildStatusPatcher sends a JSON merge patch to the Build's status subresource", async (t) => {
  const requests: { method?: string; url?: string; type?: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      requests.push({ method: req.method, url: req.url, type: req.headers["content-type"], body });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ apiVersion: "kiln.dev/v1alpha1", kind: "Build", metadata: { name: "b" } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => server.close());
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: "c",
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  await buildStatusPatcher(kc, "ci", "b")({ status: { steps: [step("a", "Running")] } });
  assert.equal(requests.length, 1);
  assert.equal(requests[0]?.method, "PATCH");
  assert.equal(requests[0]?.url, "/apis/kiln.dev/v1alpha1/namespaces/ci/builds/b/status");
  assert.equal(requests[0]?.type, "application/merge-patch+json");
  assert.deepEqual(JSON.parse(requests[0]!.body), { status: { steps: [{ name: "a", phase: "Running" }] } });
});
