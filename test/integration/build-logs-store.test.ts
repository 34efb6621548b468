// Logs that outlive pods: real builds on the process kubelet with `kiln store` beside the cluster. The agent
// ships each step's output to the store as it runs; `kiln logs --store` reads it there — the same bytes the
// build container's log (kubectl logs) shows — live, finished, and after the pod and the Build are deleted.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Build } from "../../api/build.ts";
import { CONTAINERS } from "../../api/pod-protocol.ts";
import { StoreClient } from "../../lib/store-client.ts";
import { buildPath, type Harness, podPath, startHarness, waitFor } from "./build-harness.ts";

const KILN = join(resolve(import.meta.dirname, "../.."), "bin/kiln.ts");

let h: Harness;

function kiln(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [command, ...rest] = args;
  const child = spawn(process.execPath, [KILN, command!, "--kubeconfig", h.cluster.kubeconfigPath, ...rest], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, KILN_STORE_URL: "" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (t: string) => (stdout += t));
  child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
  return new Promise((r) => child.on("close", (code) => r({ code, stdout, stderr })));
}

async function podLog(pod: string): Promise<string> {
  const res = await h.client.stream(`${podPath(pod)}/log`, { container: CONTAINERS.build });
  let text = "";
  for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString("utf8");
  return text;
}

before(async () => {
  h = await startHarness({ kubelet: true, store: true });
  await h.createRepository("app", { cancelSuperseded: false });
  await h.startController();
});
after(() => h.stop());

describe("build logs in the store", { timeout: 180_000 }, () => {
  test("shipped as the steps run; read back whole after the pod and the Build are deleted", async () => {
    const sha = await h.repo.commit({
      ".kiln.yaml": [
        "image: alpine:3",
        "steps:",
        "  - {name: greet, run: 'echo hello from the store'}",
        "  - {name: many, run: 'i=0; while [ $i -lt 3000 ]; do echo \"line $i of many\"; i=$((i+1)); done'}",
        "  - {name: skipped, run: 'echo never', when: {branches: [nope]}}",
        "  - {name: last, run: 'printf \"no newline at the end\"'}",
        "",
      ].join("\n"),
    });
    await h.createBuild("logs-1", { sha });
    const done = await h.waitPhase("logs-1", "Succeeded", 90_000);
    const pod = done.status!.podName!;
    const fromPod = await podLog(pod);
    assert.match(fromPod, /line 2999 of many/);

    // What the store holds, as a reader (the admin's kubeconfig token) sees it.
    const reader = new StoreClient({ url: h.store!.url, token: () => h.cluster.server.tokens.adminToken });
    const logs = await waitFor("every step's log complete in the store", async () => {
      const l = await reader.buildLogs({ namespace: "default", build: "logs-1" });
      return l && l.steps.length === 3 && l.steps.every((s) => s.complete) ? l : undefined;
    });
    reader.close();
    assert.equal(logs.repository, "app");
    assert.deepEqual(
      logs.steps.map((s) => [s.step, s.index]),
      [
        ["greet", 0],
        ["many", 1],
        ["last", 3],
      ],
    );

    const whole = await kiln(["logs", "logs-1", "--store", h.store!.url]);
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(whole.stdout, fromPod, "the store's log reads as the build container's");

    await h.client.delete(podPath(pod));
    await h.client.delete(buildPath("logs-1"));
    await waitFor("the pod and the Build gone", async () =>
      !(await h.getPod(pod)) && !(await h.getBuild("logs-1")) ? true : undefined,
    );
    const after = await kiln(["logs", "logs-1", "--store", h.store!.url]);
    assert.equal(after.code, 0, after.stderr);
    assert.equal(after.stdout, fromPod);
    const step = await kiln(["logs", "logs-1", "--step", "many", "--store", h.store!.url]);
    assert.equal(step.code, 0, step.stderr);
    assert.equal(step.stdout.split("\n").length, 3001);
    assert.ok(step.stdout.startsWith("line 0 of many\n"));
    const without = await kiln(["logs", "logs-1"]);
    assert.equal(without.code, 1);
  });

  test("kiln logs -f --store follows a running build step by step to its end", async () => {
    const sha = await h.repo.commit({
      ".kiln.yaml": [
        "image: alpine:3",
        "steps:",
        "  - {name: first, run: 'echo one; sleep 1; echo two'}",
        "  - {name: second, run: 'echo three; exit 3'}",
        "",
      ].join("\n"),
    });
    await h.createBuild("logs-2", { sha });
    const followed = await kiln(["logs", "logs-2", "-f", "--store", h.store!.url]);
    assert.equal(followed.code, 1, followed.stderr);
    assert.equal(followed.stdout, "\n==> first\none\ntwo\n\n==> second\nthree\n");
    assert.match(followed.stderr, /logs-2 Failed/);
    const b = (await h.getBuild("logs-2")) as Build;
    assert.equal(b.status?.phase, "Failed");
  });
});
