import { describe, test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { sampleBuild } from "../../test/fixtures/build.ts";
import { InFlight } from "./in-flight.ts";

const pod: V1Pod = { metadata: { name: "b-pod" } };

describe("InFlight", () => {
  test("a start holds its slot until the Build records its pod; a created pod stands in until the pod cache has it", (t) => {
    const f = new InFlight();
    f.start("ci/b");
    t.assert.equal(f.isStarting("ci/b"), true);
    f.created("ci/b", pod);
    f.abandon("ci/b");
    t.assert.equal(f.isStarting("ci/b"), true, "a start that made a pod is not abandoned");
    f.settle("ci/b", sampleBuild(), undefined);
    t.assert.deepEqual([f.isStarting("ci/b"), f.pod("ci/b")], [true, pod], "the caches show nothing yet");
    f.settle("ci/b", sampleBuild({ status: { podName: "b-pod" } }), undefined);
    t.assert.deepEqual([f.isStarting("ci/b"), f.pod("ci/b")], [false, pod], "the Build names its pod");
    f.settle("ci/b", sampleBuild({ status: { podName: "b-pod" } }), pod);
    t.assert.equal(f.pod("ci/b"), undefined, "the pod cache has it");
  });

  test("a start that came to nothing frees the slot; forget drops everything", (t) => {
    const f = new InFlight();
    f.start("ci/q");
    f.abandon("ci/q");
    t.assert.equal(f.isStarting("ci/q"), false);
    f.start("ci/x");
    f.created("ci/x", pod);
    f.forget("ci/x");
    t.assert.deepEqual([f.isStarting("ci/x"), f.pod("ci/x")], [false, undefined]);
  });
});
