// The typed access every component uses, against the test API server: AlreadyExists is "exists",
// NotFound is undefined, a status update retries its conflicts from a fresh read.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startTestCluster, type TestCluster } from "../stand-ins/cluster/start.ts";
import { KubeApiError, KubeClient } from "./kube.ts";
import { builds, CONFLICT_RETRIES, retryOnConflict } from "./kube-objects.ts";

let cluster: TestCluster;
let client: KubeClient;
before(async () => {
  cluster = await startTestCluster();
  client = new KubeClient(cluster.kubeConfig);
});
after(async () => {
  client.close();
  await cluster.stop();
});

const build = (name: string) => ({
  apiVersion: "kiln.dev/v1alpha1" as const,
  kind: "Build" as const,
  metadata: { name, namespace: "default" },
  spec: {
    repository: "app",
    revision: { sha: "a".repeat(40), ref: "refs/heads/main", branch: "main" },
    trigger: { event: "manual" as const },
  },
});

test("create: created, then exists; get: the object, or undefined when there is none", async () => {
  const api = builds(client);
  assert.equal(await api.create("default", build("b1")), "created");
  assert.equal(await api.create("default", build("b1")), "exists");
  assert.equal((await api.get("default", "b1"))?.metadata.name, "b1");
  assert.equal(await api.get("default", "nope"), undefined);
});

test("updateStatus writes what the change computes from the current object; nothing, or gone, writes nothing", async () => {
  const api = builds(client);
  await api.create("default", build("b2"));
  await api.patchStatus("default", "b2", undefined, { message: "before" });
  const written = await api.updateStatus("default", "b2", (current) => ({
    reason: `after ${current.status?.message}`,
  }));
  assert.equal(written?.status?.reason, "after before");
  assert.equal((await api.get("default", "b2"))?.status?.reason, "after before");
  assert.equal(await api.updateStatus("default", "b2", () => undefined), undefined, "nothing to change");
  assert.equal(await api.updateStatus("default", "gone", () => ({ message: "x" })), undefined);
  // A stale resourceVersion is refused by the server (what the retry below is for).
  await assert.rejects(api.patchStatus("default", "b2", "1", { message: "stale" }), /409/);
});

test("retryOnConflict: a 409 is retried from a fresh attempt, and the last one is thrown, not dropped", async () => {
  const conflict = () => new KubeApiError(409, { reason: "Conflict", message: "changed" }, "PATCH x");
  let attempts = 0;
  assert.equal(
    await retryOnConflict(async () => {
      if (++attempts < 3) throw conflict();
      return "done";
    }),
    "done",
  );
  assert.equal(attempts, 3);
  attempts = 0;
  await assert.rejects(
    retryOnConflict(async () => {
      attempts++;
      throw conflict();
    }),
    /409/,
  );
  assert.equal(attempts, CONFLICT_RETRIES + 1);
  await assert.rejects(
    retryOnConflict(async () => {
      throw new KubeApiError(404, { reason: "NotFound" }, "x");
    }),
    /404/,
  );
});
