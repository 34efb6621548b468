import assert from "node:assert/strict";
import { test } from "node:test";
import { sampleBuild } from "../test/fixtures/build.ts";
import { cancelPatch, cancelRefusal } from "./build-requests.ts";

test("cancel: refused when the build is over or being cancelled; else spec.cancel and who asked", () => {
  assert.deepEqual(cancelRefusal(sampleBuild({ status: { phase: "Failed" } })), {
    reason: "finished",
    phase: "Failed",
  });
  assert.deepEqual(cancelRefusal(sampleBuild({ spec: { cancel: true }, status: { phase: "Running" } })), {
    reason: "cancelling",
  });
  assert.equal(cancelRefusal(sampleBuild({ status: { phase: "Paused" } })), undefined);
  assert.equal(cancelRefusal(sampleBuild({})), undefined);
  assert.deepEqual(cancelPatch("kubernetes:ada"), {
    metadata: { annotations: { "kiln.dev/requested-by": "kubernetes:ada" } },
    spec: { cancel: true },
  });
});
