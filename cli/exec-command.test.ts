import assert from "node:assert/strict";
import { test } from "node:test";
import type { Build } from "../api/build.ts";
import { execTarget, exitCodeOf } from "./exec-command.ts";
import { exitCodeOf as buildExitCode, outcome } from "./logs-command.ts";

const build = (status: Build["status"]): Build => ({
  apiVersion: "kiln.dev/v1alpha1",
  kind: "Build",
  metadata: { name: "b", namespace: "ci" },
  spec: {
    repository: "api",
    revision: { sha: "a".repeat(40) },
    trigger: { event: "manual" },
    pauseOnFailure: true,
    timeout: "1h",
    cancel: false,
  },
  ...(status ? { status } : {}),
});

test("kiln exec gets into a paused or running build's pod, and says why not into any other", () => {
  assert.equal(execTarget(build({ phase: "Paused", podName: "b-pod" })), "b-pod");
  assert.equal(execTarget(build({ phase: "Running", podName: "b-pod" })), "b-pod");
  assert.throws(
    () => execTarget(build(undefined)),
    /^CliError: b is Queued: it has no running build container yet$/,
  );
  assert.throws(() => execTarget(build({ phase: "Pending", podName: "b-pod" })), /container yet$/);
  assert.throws(() => execTarget(build({ phase: "Failed", podName: "b-pod" })), /b is Failed: .* any more$/);
});

test("the exit code of the command, from the Status pods/exec ends with", () => {
  assert.equal(exitCodeOf({ status: "Success" }), 0);
  const failed = {
    status: "Failure",
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: "3" }] },
  };
  assert.equal(exitCodeOf(failed), 3);
  assert.equal(exitCodeOf({ status: "Failure", message: "container not found" }), undefined);
  assert.equal(exitCodeOf(undefined), undefined);
});

test("kiln logs -f ends with the build's outcome: exit 0 only for Succeeded", () => {
  const done = build({ phase: "Failed", duration: "12s", message: 'step "test" failed with exit code 2' });
  assert.equal(outcome(done), 'b Failed after 12s: step "test" failed with exit code 2');
  assert.equal(buildExitCode(done), 1);
  assert.equal(buildExitCode(build({ phase: "Succeeded" })), 0);
  assert.equal(buildExitCode(build({ phase: "Cancelled" })), 1);
});
