import { describe, test } from "node:test";
import type { BuildReason } from "../../api/reasons.ts";
import { sampleBuild } from "../../test/fixtures/build.ts";
import { REVIVALS_ANNOTATION, revive } from "./revive.ts";

const errored = (reason: BuildReason) => ({
  phase: "Errored" as const,
  reason,
  message: "the pod was evicted",
  completionTime: "x",
  duration: "1s",
});

describe("revive", () => {
  test("an evicted or lost pod before any step: a new pod, counted", (t) => {
    const b = sampleBuild({ status: { phase: "Running", podName: "p" } });
    const r = revive(b, errored("Evicted"), 2);
    t.assert.equal(r?.phase, "Pending");
    t.assert.equal(r?.reason, "Reviving");
    t.assert.match(r?.message ?? "", /before any step ran; starting a new pod \(1 of 2\)/);
    t.assert.equal(r?.completionTime, undefined);
    t.assert.equal(revive(b, errored("PodLost"), 2)?.reason, "Reviving");
  });
  test("not once a step has started, not for other failures, not beyond the limit", (t) => {
    const started = sampleBuild({ status: { phase: "Running", steps: [{ name: "a", phase: "Running" }] } });
    t.assert.equal(revive(started, errored("Evicted"), 2), undefined);
    t.assert.equal(revive(sampleBuild(), errored("OOMKilled"), 2), undefined);
    t.assert.equal(revive(sampleBuild(), { ...errored("Evicted"), phase: "Failed" }, 2), undefined);
    const used = sampleBuild();
    used.metadata.annotations = { [REVIVALS_ANNOTATION]: "2" };
    t.assert.equal(revive(used, errored("Evicted"), 2), undefined);
    t.assert.equal(revive(sampleBuild(), errored("Evicted"), 0), undefined);
  });
});
