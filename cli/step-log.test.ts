import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { stepHeader } from "../api/pod-protocol.ts";
import { StepFilter, stepLog } from "./step-log.ts";

// A build container's log as the agent writes it: each step's output after its header.
const log = [
  stepHeader("install"),
  "added 3 packages\n",
  stepHeader("test"),
  "==> not a step: printed by the test\n\nok 1\nlast line without a newline",
  stepHeader("deploy"),
  "deployed\n\n",
].join("");
const names = ["install", "test", "deploy"];

describe("stepLog", () => {
  test("each step's part, without the headers; a line that only looks like one stays", () => {
    assert.equal(stepLog(log, "install", names), "added 3 packages\n");
    assert.equal(
      stepLog(log, "test", names),
      "==> not a step: printed by the test\n\nok 1\nlast line without a newline\n",
    );
    assert.equal(stepLog(log, "deploy", names), "deployed\n\n", "the step's own empty line is kept");
  });
  test("a step that printed nothing, or never ran, has an empty part", () => {
    assert.equal(stepLog(`${stepHeader("a")}${stepHeader("b")}x\n`, "a", ["a", "b"]), "");
    assert.equal(stepLog(log, "lint", [...names, "lint"]), "");
  });
  test("while the step names are not known, every ==> line is a header", () => {
    assert.equal(stepLog(log, "install", undefined), "added 3 packages\n");
    assert.equal(stepLog(log, "test", undefined), "", "cut short by the look-alike");
    assert.equal(stepLog(log, "test", []), "");
  });
  test("the output of an invalid manifest (before any header) is no step's", () => {
    assert.equal(stepLog(".kiln.yaml:1:1: unknown key\n", ".kiln.yaml", [".kiln.yaml"]), "");
  });
});

describe("StepFilter, fed as the log streams in", () => {
  test("whatever the chunks, the same part; a partial line waits for its end", () => {
    for (const size of [1, 2, 3, 7, 64]) {
      const filter = new StepFilter("test", () => names);
      let out = "";
      for (let i = 0; i < log.length; i += size) out += filter.push(log.slice(i, i + size));
      assert.equal(out + filter.end(), stepLog(log, "test", names), `chunks of ${size}`);
    }
    const filter = new StepFilter("test", () => names);
    assert.equal(filter.push(`${stepHeader("test")}half`), "");
    assert.equal(filter.push(" a line\n"), "half a line\n");
    assert.equal(filter.end(), "");
  });
  test("the names are asked for when a header-like line comes, so they may arrive late", () => {
    let known: string[] | undefined;
    const filter = new StepFilter("b", () => known);
    let out = filter.push(`${stepHeader("a")}1\n`);
    known = ["a", "b"];
    out += filter.push(`${stepHeader("b")}2\n==> c\n3\n`);
    assert.equal(out + filter.end(), "2\n==> c\n3\n");
  });
});
