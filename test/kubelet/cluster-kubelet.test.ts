// startTestCluster({ kubelet: true }) brings the process kubelet up with the API server, and
// stopping the cluster stops every process the kubelet started.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api } from "@kubernetes/client-node";
import { startTestCluster } from "../cluster/start.ts";

function pidsWith(marker: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return fs.readFileSync(`/proc/${e}/cmdline`, "utf8").includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test("startTestCluster({ kubelet: true }) runs pods; stopping it leaves no process", {
  timeout: 30_000,
}, async () => {
  const cluster = await startTestCluster({ applyCRDs: false, kubelet: true });
  const marker = `kiln-shutdown-${process.pid}-${Date.now()}`;
  try {
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const phase = async (name: string) =>
      (await core.readNamespacedPod({ name, namespace: "kiln" })).status?.phase;
    await core.createNamespacedPod({
      namespace: "kiln",
      body: {
        metadata: { name: "hello" },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "main",
              image: "busybox",
              command: ["echo", "hello from $(POD)"],
              env: [{ name: "POD", value: "kiln" }],
            },
          ],
        },
      },
    });
    await until("hello succeeded", async () => (await phase("hello")) === "Succeeded");
    assert.equal(await core.readNamespacedPodLog({ name: "hello", namespace: "kiln" }), "hello from kiln\n");
    await core.createNamespacedPod({
      namespace: "kiln",
      body: {
        metadata: { name: "long" },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "main",
              image: "busybox",
              command: ["sh", "-c", `sh -c 'sleep 60; : ${marker}' & sleep 60`],
            },
          ],
        },
      },
    });
    await until(
      "long running",
      async () => (await phase("long")) === "Running" && pidsWith(marker).length > 0,
    );
  } finally {
    await cluster.stop();
  }
  await until("processes gone", () => pidsWith(marker).length === 0, 5_000);
});
