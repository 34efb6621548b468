// A Build of a local git repository, end to end: test API server → build controller → process kubelet
// running the pod (kiln fetch, the runner, kiln agent) → steps in Build.status → Succeeded or Failed.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Harness, startHarness } from "./build-harness.ts";

let h: Harness;

before(async () => {
  h = await startHarness({ kubelet: true });
  await h.createRepository("app", { concurrency: 4, cancelSuperseded: false });
  await h.startController();
});
after(() => h.stop());

describe("a build through the process kubelet", { timeout: 90_000 }, () => {
  test("every step runs and is recorded: Succeeded", async () => {
    const sha = await h.repo.commit({
      ".kiln.yaml": [
        "image: node:24",
        "steps:",
        "  - {name: greet, run: echo hello from kiln}",
        "  - {name: check, run: 'test -f package.json && grep -q kiln package.json'}",
        "",
      ].join("\n"),
      "package.json": '{"name": "kiln-e2e"}\n',
    });
    await h.createBuild("e2e-ok", { sha });
    const b = await h.waitPhase("e2e-ok", "Succeeded", 60_000);
    assert.deepEqual(
      b.status?.steps?.map((s) => [s.name, s.phase, s.exitCode]),
      [
        ["greet", "Succeeded", 0],
        ["check", "Succeeded", 0],
      ],
    );
    assert.ok(b.status?.duration);
  });

  test("a failing step: Failed, naming it, later steps not run", async () => {
    const sha = await h.repo.commit({
      ".kiln.yaml":
        "image: node:24\nsteps:\n  - {name: build, run: 'true'}\n  - {name: test, run: 'exit 3'}\n  - {name: deploy, run: 'true'}\n",
    });
    await h.createBuild("e2e-fail", { sha });
    const b = await h.waitPhase("e2e-fail", "Failed", 60_000);
    assert.match(b.status?.message ?? "", /step "test" failed with exit code 3/);
    const steps = Object.fromEntries((b.status?.steps ?? []).map((s) => [s.name, s.phase]));
    assert.equal(steps.build, "Succeeded");
    assert.equal(steps.test, "Failed");
    assert.notEqual(steps.deploy, "Succeeded");
  });
});
