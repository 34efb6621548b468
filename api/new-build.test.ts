import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { makeRepository } from "../test/fixtures/webhook.ts";
import { build as buildSchema } from "./build.ts";
import {
  buildForCatchUp,
  buildName,
  labelsOf,
  labelsToMend,
  labelValue,
  manualBuildName,
} from "./new-build.ts";
import { branchMatches } from "./repository.ts";

const SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
const repo = makeRepository("api", "acme", "api", { branches: ["main", "release/*"] });

describe("names and labels", () => {
  test("buildName is a DNS label of at most 55 characters", () => {
    const name = buildName("a".repeat(80), SHA, "seed");
    assert.ok(name.length <= 55, name);
    assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    assert.match(buildName("my.repo", SHA, "s"), /^my-repo-6113728-/);
  });
  test("labelValue: a valid label stays itself; anything else gets a readable head and a hash of the whole", () => {
    const LABEL = /^[A-Za-z0-9]([-A-Za-z0-9._]{0,61}[A-Za-z0-9])?$/;
    assert.equal(labelValue("main"), "main");
    assert.equal(labelValue("v1.2_rc"), "v1.2_rc");
    for (const input of ["release/1.2", "feature/ünïcode", "-x-", "b".repeat(100), "///"]) {
      const value = labelValue(input);
      assert.match(value, LABEL, input);
      assert.ok(value.length <= 63);
    }
    assert.match(labelValue("release/1.2"), /^release-1\.2-[0-9a-f]{10}$/);
    // Two long branch names that share their first 63 characters must not share a label (they did when
    // the webhook truncated and the controller hashed).
    const a = `${"x".repeat(70)}-one`;
    const b = `${"x".repeat(70)}-two`;
    assert.notEqual(labelValue(a), labelValue(b));
    assert.notEqual(labelValue("release/1"), labelValue("release-1"));
  });
  test("branch globs", () => {
    assert.ok(branchMatches("anything/at/all", ["**"]));
    assert.ok(branchMatches("release/1", ["release/*"]));
    assert.ok(!branchMatches("release", ["release/*"]));
    assert.ok(branchMatches("main", ["main"]));
  });
  test("catch-up builds of the same head share a name; another head gets another", () => {
    const a = buildForCatchUp(repo, "main", SHA);
    const b = buildForCatchUp(repo, "main", SHA);
    const c = buildForCatchUp(repo, "main", "b".repeat(40));
    assert.equal(a.metadata.name, b.metadata.name);
    assert.notEqual(a.metadata.name, c.metadata.name);
    assert.deepEqual(buildSchema.parse(a).spec.trigger, { event: "catch-up" });
  });
});

describe("labels from the spec", () => {
  const spec = { repository: "api", revision: { sha: SHA, branch: "release/1.2" } };
  test("labelsOf: repository, branch (or tag) and short commit, label-safe", () => {
    assert.deepEqual(labelsOf(spec), {
      "kiln.dev/repository": "api",
      "kiln.dev/branch": labelValue("release/1.2"),
      "kiln.dev/commit": "6113728",
    });
    assert.equal(labelsOf({ repository: "api", revision: { sha: SHA, tag: "v1" } })["kiln.dev/branch"], "v1");
  });
  test("labelsToMend: what a hand-written Build lacks or has wrong; nothing for one newBuild made", () => {
    assert.deepEqual(labelsToMend({ metadata: {}, spec }), labelsOf(spec));
    assert.deepEqual(
      labelsToMend({
        metadata: { labels: { "kiln.dev/repository": "api", "kiln.dev/commit": "0000000", team: "x" } },
        spec,
      }),
      { "kiln.dev/branch": labelValue("release/1.2"), "kiln.dev/commit": "6113728" },
    );
    assert.equal(labelsToMend(buildForCatchUp(repo, "main", SHA)), undefined);
  });
  test("manualBuildName: a DNS label, another each time", () => {
    assert.equal(manualBuildName("api", SHA, "0a1b2c"), "api-6113728-manual-0a1b2c");
    const a = manualBuildName("my.repo", SHA);
    assert.match(a, /^my-repo-6113728-manual-[0-9a-f]{6}$/);
    assert.notEqual(a, manualBuildName("my.repo", SHA));
  });
});
