// startTestCluster({ kubelet: true }) brings the process kubelet up with the API server, and
// stopping the cluster stops every process the kubelet started.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CoreV1Api, type V1Container, type V1Pod, type V1PodSpec } from "@kubernetes/client-node";
import { silentLogger } from "../../lib/log.ts";
import { waitFor } from "../../test/wait-for.ts";
import { startTestCluster } from "../cluster/start.ts";
import { startKubelet } from "./kubelet.ts";
import { pidsWith } from "./pids.ts";

/** A pod of one busybox container `main` that is never restarted. */
function onePod(
  name: string,
  main: Omit<V1Container, "name" | "image">,
  spec: Partial<V1PodSpec> = {},
): V1Pod {
  return {
    metadata: { name },
    spec: { restartPolicy: "Never", ...spec, containers: [{ name: "main", image: "busybox", ...main }] },
  };
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
      body: onePod("hello", {
        command: ["echo", "hello from $(POD)"],
        env: [{ name: "POD", value: "kiln" }],
      }),
    });
    await waitFor("hello succeeded", async () => (await phase("hello")) === "Succeeded");
    assert.equal(await core.readNamespacedPodLog({ name: "hello", namespace: "kiln" }), "hello from kiln\n");
    await core.createNamespacedPod({
      namespace: "kiln",
      body: onePod("long", { command: ["sh", "-c", `sh -c 'sleep 60; : ${marker}' & sleep 60`] }),
    });
    await waitFor(
      "long running",
      async () => (await phase("long")) === "Running" && pidsWith(marker).length > 0,
    );
  } finally {
    await cluster.stop();
  }
  await waitFor("processes gone", () => pidsWith(marker).length === 0, 5_000);
});

test("a kubelet stopping reports its pods like a node shutdown; a restarted one fails what it lost", {
  timeout: 30_000,
}, async () => {
  const cluster = await startTestCluster({ applyCRDs: false });
  const marker = `kiln-restart-${process.pid}-${Date.now()}`;
  try {
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const status = async (name: string) =>
      (await core.readNamespacedPod({ name, namespace: "default" })).status;
    const first = await startKubelet({ kubeConfig: cluster.kubeConfig, log: silentLogger() });
    await core.createNamespacedPod({
      namespace: "default",
      body: onePod(
        "running",
        { command: ["sh", "-c", `sleep 60; : ${marker}`] },
        { automountServiceAccountToken: false },
      ),
    });
    await waitFor("running", async () => (await status("running"))?.phase === "Running");
    await first.stop();
    assert.deepEqual(pidsWith(marker), []);
    const stopped = await status("running");
    assert.equal(stopped?.phase, "Failed");
    assert.equal(stopped?.reason, "Terminated");

    // A pod that a kubelet had started, then lost with its processes (as after kill -9).
    await core.createNamespacedPod({
      namespace: "default",
      body: onePod(
        "lost",
        { command: ["sleep", "60"] },
        { nodeName: "process-kubelet", automountServiceAccountToken: false },
      ),
    });
    const pod = await core.readNamespacedPod({ name: "lost", namespace: "default" });
    await core.replaceNamespacedPodStatus({
      name: "lost",
      namespace: "default",
      body: {
        ...pod,
        status: {
          phase: "Running",
          startTime: new Date(),
          containerStatuses: [
            {
              name: "main",
              image: "busybox",
              imageID: "",
              ready: true,
              restartCount: 0,
              state: { running: { startedAt: new Date() } },
            },
          ],
        },
      },
    });
    const second = await startKubelet({ kubeConfig: cluster.kubeConfig, log: silentLogger() });
    try {
      await waitFor("lost pod failed", async () => (await status("lost"))?.phase === "Failed");
      const lost = await status("lost");
      assert.equal(lost?.reason, "NodeLost");
      assert.equal(lost?.containerStatuses?.[0]?.state?.terminated?.exitCode, 137);
    } finally {
      await second.stop();
    }
  } finally {
    await cluster.stop();
  }
});
