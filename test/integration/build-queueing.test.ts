// Per-repository queueing against the test API server: concurrency, cancelSuperseded, history.keep.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { API_VERSION } from "../../api/group.ts";
import { resourcePath } from "../../lib/kube.ts";
import { type Harness, NS, PIPELINE, podStatuses, startHarness, waitFor } from "./build-harness.ts";

const repositoryPath = (name: string) => resourcePath(API_VERSION, "repositories", NS, name);

let h: Harness;
let sha: string;

before(async () => {
  h = await startHarness();
  sha = await h.repo.commit({ ".kiln.yaml": PIPELINE });
  await h.startController();
});
after(() => h.stop());

async function finish(name: string) {
  const b = await h.waitPhase(name, "Pending");
  await h.reportSteps(name, [{ name: "hello", phase: "Succeeded", exitCode: 0 }]);
  await h.setPodStatus(b.status!.podName!, podStatuses.finished("Succeeded", 0));
  await h.waitPhase(name, "Succeeded");
}

describe("queueing", { timeout: 60_000 }, () => {
  test("concurrency: builds beyond it stay Queued, first come first served, until a slot frees", async () => {
    await h.createRepository("conc", { concurrency: 2, cancelSuperseded: false });
    // Created in the same second: age ties are broken by name, so conc-1 … conc-4 is their order.
    for (const n of [1, 2, 3, 4])
      await h.createBuild(`conc-${n}`, { sha, branch: `br-${n}`, repository: "conc" });
    await h.waitPhase("conc-1", "Pending");
    await h.waitPhase("conc-2", "Pending");
    const q3 = await h.waitPhase("conc-3", "Queued");
    assert.match(q3.status?.message ?? "", /2 of 2 running/);
    await h.waitPhase("conc-4", "Queued");
    assert.equal(await h.getPod("conc-3-pod"), undefined);
    await finish("conc-1");
    await h.waitPhase("conc-3", "Pending");
    assert.equal((await h.getBuild("conc-4"))?.status?.phase, "Queued", "the older queued build went first");
    await finish("conc-2");
    await h.waitPhase("conc-4", "Pending");
  });

  test("raising concurrency in the Repository's spec starts a queued build at once", async () => {
    await h.createRepository("grow", { concurrency: 1, cancelSuperseded: false });
    await h.createBuild("grow-1", { sha, branch: "g-1", repository: "grow" });
    await h.waitPhase("grow-1", "Pending");
    await h.createBuild("grow-2", { sha, branch: "g-2", repository: "grow" });
    await h.waitPhase("grow-2", "Queued");
    // A status write alone (as the repository controller makes) changes nothing.
    await h.client.mergePatch(`${repositoryPath("grow")}/status`, { status: { lastBuild: "grow-2" } });
    await h.client.mergePatch(repositoryPath("grow"), { spec: { concurrency: 2 } });
    await h.waitPhase("grow-2", "Pending", 5_000);
  });

  test("cancelSuperseded: a newer build of the same branch cancels the older running one", async () => {
    await h.createRepository("sup", { concurrency: 5, cancelSuperseded: true });
    await h.createBuild("sup-old", { sha, branch: "main", repository: "sup" });
    const old = await h.waitPhase("sup-old", "Pending");
    await h.setPodStatus(old.status!.podName!, podStatuses.running());
    await h.waitPhase("sup-old", "Running");
    await h.createBuild("sup-other", { sha, branch: "dev", repository: "sup" });
    // The next push to main, most likely within the same second (creationTimestamp ties) and with a name
    // that sorts before the older one's: the push chain (its `before` is the older push's sha) says it
    // is the newer.
    const next = await h.repo.commit({ "next.txt": "x" });
    await h.createBuild("sup-new", {
      sha: next,
      repository: "sup",
      spec: {
        revision: { sha: next, ref: "refs/heads/main", branch: "main", before: sha },
        trigger: { event: "push" },
      },
    });
    const cancelled = await h.waitPhase("sup-old", "Cancelled");
    assert.equal(cancelled.status?.reason, "Superseded");
    assert.match(cancelled.status?.message ?? "", /sup-new/);
    await waitFor("old pod deleted", async () => {
      const p = await h.getPod("sup-old-pod");
      return p === undefined || p.metadata?.deletionTimestamp !== undefined;
    });
    await h.waitPhase("sup-new", "Pending");
    await h.waitPhase("sup-other", "Pending");
  });

  test("cancelSuperseded off: both run", async () => {
    await h.createRepository("nosup", { concurrency: 5, cancelSuperseded: false });
    await h.createBuild("nosup-a", { sha, branch: "main", repository: "nosup" });
    await h.waitPhase("nosup-a", "Pending");
    await h.createBuild("nosup-b", { sha, branch: "main", repository: "nosup" });
    await h.waitPhase("nosup-b", "Pending");
    assert.equal((await h.getBuild("nosup-a"))?.status?.phase, "Pending");
  });

  test("history.keep: finished builds beyond it are deleted, oldest first", async () => {
    await h.createRepository("hist", { concurrency: 5, cancelSuperseded: false, history: { keep: 2 } });
    for (const n of [1, 2, 3, 4]) {
      await h.createBuild(`hist-${n}`, { sha, branch: `h-${n}`, repository: "hist" });
      await finish(`hist-${n}`);
    }
    await waitFor("hist-1 and hist-2 deleted", async () => {
      const gone = (await h.getBuild("hist-1")) === undefined && (await h.getBuild("hist-2")) === undefined;
      return gone || undefined;
    });
    assert.ok(await h.getBuild("hist-3"));
    assert.ok(await h.getBuild("hist-4"));
    await waitFor("their pods garbage-collected", async () =>
      (await h.getPod("hist-1-pod")) === undefined ? true : undefined,
    );
  });

  test("a Build whose Repository appears later starts then", async () => {
    await h.createBuild("late-1", { sha, branch: "main", repository: "late" });
    const q = await h.waitPhase("late-1", "Queued");
    assert.equal(q.status?.reason, "RepositoryNotFound");
    await h.createRepository("late", { concurrency: 1 });
    await h.waitPhase("late-1", "Pending");
  });
});
