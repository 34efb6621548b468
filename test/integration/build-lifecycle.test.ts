// The build controller against the test API server, with pod status driven by hand (as a kubelet would
// report it) and step records written as the agent writes them: every phase transition.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import type { V1Pod } from "@kubernetes/client-node";
import { type Harness, PIPELINE, podStatuses, startHarness, waitFor } from "./build-harness.ts";

const run = promisify(execFile);
const KUBECTL = resolve(import.meta.dirname, "../../.tools/bin/kubectl");

let h: Harness;
let sha: string;

before(async () => {
  h = await startHarness();
  sha = await h.repo.commit({ ".kiln.yaml": PIPELINE });
  await h.createRepository("app", { concurrency: 10, cancelSuperseded: false });
  await h.startController({ startTimeoutMs: 60_000 });
});
after(() => h.stop());

async function podOf(build: string): Promise<V1Pod> {
  const b = await h.waitPhase(build, "Pending");
  assert.ok(b.status?.podName);
  return (await h.getPod(b.status.podName))!;
}

describe("build lifecycle", { timeout: 60_000 }, () => {
  test("Pending → Running → Paused → Running → Succeeded, with steps, duration and Events", async () => {
    await h.createBuild("ok", { sha, branch: "b-ok" });
    const pod = await podOf("ok");
    const name = pod.metadata!.name!;
    assert.equal(name, "ok-pod");
    assert.equal(pod.metadata?.labels?.["kiln.dev/build"], "ok");
    assert.equal(pod.metadata?.labels?.["kiln.dev/repository"], "app");
    const owner = pod.metadata?.ownerReferences?.[0];
    assert.equal(owner?.kind, "Build");
    assert.equal(owner?.controller, true);
    assert.ok(pod.spec?.initContainers?.[0]?.args?.includes(h.repo.url), "fetches from the clone URL");
    assert.ok(pod.spec?.initContainers?.[0]?.args?.includes(sha), "fetches exactly the commit");
    assert.equal(
      pod.spec?.containers.find((c) => c.name === "build")?.image,
      "node:24",
      "the image from .kiln.yaml",
    );

    await h.setPodStatus(name, podStatuses.running());
    await h.waitPhase("ok", "Running");
    await h.reportSteps("ok", [{ name: "hello", phase: "Running" }]);
    await waitFor("running message", async () =>
      (await h.getBuild("ok"))?.status?.message?.includes('"hello"'),
    );
    await h.reportSteps("ok", [
      { name: "hello", phase: "Succeeded", exitCode: 0 },
      { name: "test", phase: "Paused", message: "Debug with: kubectl exec -it ok-pod -c build -- sh" },
    ]);
    const paused = await h.waitPhase("ok", "Paused");
    assert.match(paused.status?.message ?? "", /kubectl exec -it ok-pod -c build/);
    await h.reportSteps("ok", [
      { name: "hello", phase: "Succeeded", exitCode: 0 },
      { name: "test", phase: "Running" },
    ]);
    await h.waitPhase("ok", "Running");
    await h.reportSteps("ok", [
      { name: "hello", phase: "Succeeded", exitCode: 0 },
      { name: "test", phase: "Succeeded", exitCode: 0 },
    ]);
    await h.setPodStatus(name, podStatuses.finished("Succeeded", 0));
    const done = await h.waitPhase("ok", "Succeeded");
    assert.ok(done.status?.completionTime && done.status.duration && done.status.startTime);
    assert.deepEqual(
      done.status?.steps?.map((s) => `${s.name}:${s.phase}`),
      ["hello:Succeeded", "test:Succeeded"],
      "the controller never overwrites the agent's steps",
    );
    const events = await waitFor("events", async () => {
      const list = await h.client.list<{ involvedObject: { name: string }; reason: string }>(
        "/api/v1/namespaces/default/events",
      );
      const mine = list.items.filter((e) => e.involvedObject.name === "ok").map((e) => e.reason);
      return mine.includes("Succeeded") ? mine : undefined;
    });
    for (const reason of ["Running", "Paused", "Succeeded"]) assert.ok(events.includes(reason), reason);
  });

  test("kubectl describe build shows the phase changes as Events", {
    skip: !existsSync(KUBECTL) && "no kubectl (npm ci installs it)",
  }, async () => {
    const { stdout } = await run(KUBECTL, [
      "--kubeconfig",
      h.cluster.kubeconfigPath,
      "describe",
      "build",
      "ok",
      "-n",
      "default",
    ]);
    const events = stdout.slice(stdout.indexOf("Events:"));
    assert.match(events, /Normal\s+Running\s+\S+\s+kiln-build-controller\s+Pending → Running/);
    assert.match(events, /Normal\s+Succeeded\s+.*Running → Succeeded: all 2 steps succeeded/);
  });

  test("a failing step: Failed, naming the step", async () => {
    await h.createBuild("fails", { sha, branch: "b-fails" });
    const pod = await podOf("fails");
    await h.setPodStatus(pod.metadata!.name!, podStatuses.running());
    await h.reportSteps("fails", [
      { name: "hello", phase: "Succeeded", exitCode: 0 },
      { name: "test", phase: "Failed", exitCode: 2 },
    ]);
    await h.setPodStatus(pod.metadata!.name!, podStatuses.finished("Failed", 1));
    const b = await h.waitPhase("fails", "Failed");
    assert.match(b.status?.message ?? "", /step "test" failed with exit code 2/);
  });

  test("an invalid .kiln.yaml: Failed with file, line and column; a missing one: Failed too", async () => {
    const bad = await h.repo.commit({
      ".kiln.yaml":
        "image: node:24\nservices:\n  - {name: db, image: pg, ports: [0]}\nsteps: [{name: a, run: x}]\n",
    });
    await h.createBuild("invalid", { sha: bad, branch: "b-invalid" });
    const b = await h.waitPhase("invalid", "Failed");
    assert.equal(b.status?.reason, "InvalidManifest");
    assert.match(b.status?.message ?? "", /^\.kiln\.yaml:3:\d+: services\[0\]\.ports\[0\]/);
    const none = await h.repo.commit({ ".kiln.yaml": null });
    await h.createBuild("missing", { sha: none, branch: "b-missing" });
    const m = await h.waitPhase("missing", "Failed");
    assert.equal(m.status?.reason, "ManifestNotFound");
    assert.equal(await h.getPod("invalid-pod"), undefined, "no pod for an invalid manifest");
    await h.repo.commit({ ".kiln.yaml": PIPELINE });
  });

  test("a .kiln.yaml that cannot be read yet: Queued saying why, then it starts", async () => {
    await h.createRepository("private", {
      concurrency: 2,
      cancelSuperseded: false,
      tokenSecretRef: { name: "private-token", key: "token" },
    });
    // A commit not read before (the manifest cache is per commit).
    const fresh = await h.repo.commit({ "private.txt": "x" });
    await h.createBuild("private-1", { sha: fresh, branch: "b-private", repository: "private" });
    const waiting = await waitFor("ManifestUnavailable", async () => {
      const b = await h.getBuild("private-1");
      return b?.status?.reason === "ManifestUnavailable" ? b : undefined;
    });
    assert.equal(waiting.status?.phase, "Queued");
    assert.match(
      waiting.status?.message ?? "",
      /cannot read \.kiln\.yaml at [0-9a-f]{7}, retrying: .*private-token/,
    );
    await h.client.create("/api/v1/namespaces/default/secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "private-token", namespace: "default" },
      stringData: { token: "not-needed-for-a-local-repository" },
    });
    const pod = await podOf("private-1");
    assert.ok(
      pod.spec?.volumes?.some((v) => v.secret?.secretName === "private-token"),
      "the token goes to the fetch container",
    );
  });

  test("cancel by spec.cancel and by annotation: Cancelled, pod deleted", async () => {
    await h.createBuild("cancel1", { sha, branch: "b-c1" });
    await h.createBuild("cancel2", { sha, branch: "b-c2" });
    await podOf("cancel1");
    await podOf("cancel2");
    await h.client.mergePatch("/apis/kiln.dev/v1alpha1/namespaces/default/builds/cancel1", {
      spec: { cancel: true },
    });
    await h.client.mergePatch("/apis/kiln.dev/v1alpha1/namespaces/default/builds/cancel2", {
      metadata: { annotations: { "kiln.dev/cancel": "true" } },
    });
    for (const name of ["cancel1", "cancel2"]) {
      const b = await h.waitPhase(name, "Cancelled");
      assert.ok(b.status?.duration);
      await waitFor(`${name} pod gone or terminating`, async () => {
        const p = await h.getPod(`${name}-pod`);
        return p === undefined || p.metadata?.deletionTimestamp !== undefined;
      });
    }
  });

  test("a timeout: TimedOut, pod deleted", async () => {
    await h.createBuild("slow", { sha, branch: "b-slow", spec: { timeout: "1s" } });
    const pod = await podOf("slow");
    assert.equal(pod.spec?.activeDeadlineSeconds, 1);
    await h.setPodStatus(pod.metadata!.name!, podStatuses.running());
    const b = await h.waitPhase("slow", "TimedOut", 5000);
    assert.match(b.status?.message ?? "", /timeout \(1s\)/);
    await waitFor("slow pod deleted", async () => {
      const p = await h.getPod("slow-pod");
      return p === undefined || p.metadata?.deletionTimestamp !== undefined;
    });
  });

  test("infrastructure failures are Errored, never Succeeded: evicted, OOM-killed, lost pod", async () => {
    await h.createBuild("evicted", { sha, branch: "b-ev" });
    await h.createBuild("oom", { sha, branch: "b-oom" });
    await h.createBuild("lost", { sha, branch: "b-lost" });
    for (const name of ["evicted", "oom", "lost"]) {
      await h.setPodStatus((await podOf(name)).metadata!.name!, podStatuses.running());
      // A step has started: from here on an infrastructure failure is final (no new pod).
      await h.reportSteps(name, [{ name: "hello", phase: "Running" }]);
    }
    await h.waitPhase("lost", "Running");
    await h.setPodStatus("evicted-pod", {
      phase: "Failed",
      reason: "Evicted",
      message: "The node was low on resource: memory.",
    });
    const oom = podStatuses.finished("Failed", 137);
    oom!.containerStatuses![0]!.state!.terminated!.reason = "OOMKilled";
    await h.setPodStatus("oom-pod", oom);
    await h.client.delete("/api/v1/namespaces/default/pods/lost-pod");
    assert.equal((await h.waitPhase("evicted", "Errored")).status?.reason, "Evicted");
    assert.equal((await h.waitPhase("oom", "Errored")).status?.reason, "OOMKilled");
    const lost = await h.waitPhase("lost", "Errored");
    assert.equal(lost.status?.reason, "PodLost");
  });

  test("a pod evicted or lost before any step ran gets a new pod, twice; the third time it is Errored", async () => {
    await h.createBuild("revive", { sha, branch: "b-revive" });
    const first = await podOf("revive");
    const startedAt = (await h.getBuild("revive"))?.status?.startTime;
    const newPod = async (than: string | undefined) =>
      waitFor("a new pod", async () => {
        const p = await h.getPod("revive-pod");
        return p && p.metadata?.uid !== than && !p.metadata?.deletionTimestamp ? p : undefined;
      });
    await h.setPodStatus("revive-pod", {
      phase: "Failed",
      reason: "Evicted",
      message: "The node was low on memory.",
    });
    const second = await newPod(first.metadata?.uid);
    let b = await h.waitPhase("revive", "Pending");
    assert.equal(b.metadata.annotations?.["kiln.dev/revivals"], "1");
    await h.client.delete("/api/v1/namespaces/default/pods/revive-pod");
    await newPod(second.metadata?.uid);
    b = await waitFor("second revival recorded", async () => {
      const x = await h.getBuild("revive");
      return x?.metadata.annotations?.["kiln.dev/revivals"] === "2" && x.status?.reason === "PodPending"
        ? x
        : undefined;
    });
    assert.equal(b.status?.startTime, startedAt, "the timeout still counts from the first start");
    await h.setPodStatus("revive-pod", {
      phase: "Failed",
      reason: "Evicted",
      message: "The node was low on memory.",
    });
    const errored = await h.waitPhase("revive", "Errored");
    assert.equal(errored.status?.reason, "Evicted");
  });

  test("an image that cannot be pulled: Errored once the start timeout passes", async () => {
    await h.stopController();
    await h.startController({ startTimeoutMs: 2000 });
    await h.createBuild("pull", { sha, branch: "b-pull" });
    const pod = await podOf("pull");
    await h.setPodStatus(pod.metadata!.name!, {
      phase: "Pending",
      containerStatuses: [
        {
          name: "build",
          ready: false,
          restartCount: 0,
          image: "nodejs:99",
          imageID: "",
          state: { waiting: { reason: "ImagePullBackOff", message: "nodejs:99 not found" } },
        },
      ],
    });
    const b = await h.waitPhase("pull", "Errored", 5000);
    assert.equal(b.status?.reason, "ImagePullFailed");
    assert.match(b.status?.message ?? "", /nodejs:99/);
  });

  test("/metrics shows builds by phase and reconcile counters; /healthz answers", async () => {
    const port = h.controllers!.port;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /kiln_builds\{phase="Succeeded"\} [1-9]/);
    assert.match(metrics, /kiln_reconcile_total\{controller="build",result="success"\} \d+/);
    assert.match(metrics, /kiln_build_queue_seconds_count/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  });
});
