// Restarting the build controller at any moment is safe: a build continues where it was, an existing pod
// is adopted rather than duplicated, and a pod the Build does not own is never taken over.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { build as buildSchema } from "../../api/build.ts";
import { repository as repositorySchema } from "../../api/repository.ts";
import { buildPod } from "../../controllers/build/build-pod.ts";
import { parseManifest } from "../../controllers/build/parse-manifest.ts";
import { controllerConfig } from "../../controllers/config.ts";
import { KILN_IMAGE } from "../../scripts/image-inputs.ts";
import { type Harness, NS, PIPELINE, podPath, podStatuses, startHarness } from "./build-harness.ts";

let h: Harness;
let sha: string;

before(async () => {
  h = await startHarness();
  sha = await h.repo.commit({ ".kiln.yaml": PIPELINE });
  await h.createRepository("app", { concurrency: 10, cancelSuperseded: false });
});
after(() => h.stop());

async function podsOf(build: string): Promise<V1Pod[]> {
  const list = await h.client.list<V1Pod>(podPath(), { labelSelector: `kiln.dev/build=${build}` });
  return list.items;
}

describe("controller restarts", { timeout: 60_000 }, () => {
  test("a restart mid-build: the build finishes from the pod's state, with no second pod", async () => {
    await h.startController();
    await h.createBuild("mid", { sha });
    const pending = await h.waitPhase("mid", "Pending");
    await h.stopController();
    // While no controller runs, the build runs and finishes.
    await h.setPodStatus(pending.status!.podName!, podStatuses.running());
    await h.reportSteps("mid", [{ name: "hello", phase: "Succeeded", exitCode: 0 }]);
    await h.setPodStatus(pending.status!.podName!, podStatuses.finished("Succeeded", 0));
    await h.startController();
    const done = await h.waitPhase("mid", "Succeeded");
    assert.equal(done.status?.startTime, pending.status?.startTime, "startTime kept across the restart");
    assert.equal((await podsOf("mid")).length, 1);
    await h.stopController();
  });

  test("a pod created before the controller recorded it is adopted, not duplicated", async () => {
    const created = await h.createBuild("adopt", { sha });
    // What a controller that died between creating the pod and writing status left behind.
    const repo = repositorySchema.parse(
      (await h.client.get(`/apis/kiln.dev/v1alpha1/namespaces/${NS}/repositories/app`)) as object,
    );
    const parsed = parseManifest(PIPELINE, ".kiln.yaml");
    assert.ok(parsed.ok);
    const config = { ...controllerConfig.parse({ leaderElection: { identity: "x" } }), image: KILN_IMAGE };
    await h.client.create(podPath(), buildPod(buildSchema.parse(created), repo, parsed.pipeline, config));
    await h.startController();
    const b = await h.waitPhase("adopt", "Pending");
    assert.equal(b.status?.podName, "adopt-pod");
    assert.equal((await podsOf("adopt")).length, 1);
    await h.stopController();
  });

  test("a pod of the same name that the Build does not own: Errored, and the pod is left alone", async () => {
    await h.client.create(podPath(), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "squat-pod", namespace: NS },
      spec: { containers: [{ name: "x", image: "busybox", command: ["sleep", "1"] }] },
    });
    await h.startController();
    await h.createBuild("squat", { sha });
    const b = await h.waitPhase("squat", "Errored");
    assert.equal(b.status?.reason, "PodConflict");
    const pod = await h.getPod("squat-pod");
    assert.ok(pod && !pod.metadata?.deletionTimestamp && !pod.metadata?.ownerReferences);
    await h.stopController();
  });
});
