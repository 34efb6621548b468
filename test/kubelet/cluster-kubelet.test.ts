// startTestCluster({ kubelet: true }) brings the process kubelet up with the API server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api } from "@kubernetes/client-node";
import { startTestCluster } from "../cluster/start.ts";

test("startTestCluster({ kubelet: true }) runs pods", { timeout: 30_000 }, async () => {
  const cluster = await startTestCluster({ applyCRDs: false, kubelet: true });
  try {
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
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
    let phase: string | undefined;
    for (let i = 0; i < 200 && phase !== "Succeeded"; i++) {
      phase = (await core.readNamespacedPod({ name: "hello", namespace: "kiln" })).status?.phase;
      await sleep(50);
    }
    assert.equal(phase, "Succeeded");
    assert.equal(await core.readNamespacedPodLog({ name: "hello", namespace: "kiln" }), "hello from kiln\n");
  } finally {
    await cluster.stop();
  }
});
