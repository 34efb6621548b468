import assert from "node:assert/strict";
import { test } from "node:test";
import { branchMatches, skipReason } from "./when.ts";

test("branch globs: * within a segment, ** across", () => {
  const table: [string[], string, boolean][] = [
    [["main"], "main", true],
    [["main"], "mainline", false],
    [["release/*"], "release/1.2", true],
    [["release/*"], "release/1/hotfix", false],
    [["release/**"], "release/1/hotfix", true],
    [["feat-?"], "feat-a", true],
    [["v1.0"], "v1x0", false],
    [["a", "b"], "b", true],
  ];
  for (const [patterns, branch, expected] of table) {
    assert.equal(branchMatches(patterns, branch), expected, `${patterns} ~ ${branch}`);
  }
});

test("skipReason explains why a step does not run", () => {
  const step = { name: "deploy", run: "x", when: { branches: ["main"] } };
  assert.equal(skipReason(step, "main"), undefined);
  assert.match(skipReason(step, "dev") ?? "", /only on branches main, not on dev/);
  assert.match(skipReason(step, undefined) ?? "", /has no branch/);
  assert.equal(skipReason({ name: "t", run: "x" }, undefined), undefined);
});
