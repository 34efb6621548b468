import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { expand } from "./expand.ts";

const vars = new Map([
  ["VAR_A", "A"],
  ["VAR_B", "B"],
  ["EMPTY", ""],
]);
const lookup = (name: string) => vars.get(name);

// Cases from kubernetes third_party/forked/golang/expansion/expand_test.go.
const cases: [string, string][] = [
  ["$(VAR_A)", "A"],
  ["___$(VAR_B)___", "___B___"],
  ["$(VAR_A)-$(VAR_B)", "A-B"],
  ["$(VAR_A)$(VAR_B)", "AB"],
  ["$(EMPTY)x", "x"],
  ["$(UNKNOWN)", "$(UNKNOWN)"],
  ["$$(VAR_A)", "$(VAR_A)"],
  ["$$$(VAR_A)", "$A"],
  ["$$$$(VAR_A)", "$$(VAR_A)"],
  ["$(VAR_A", "$(VAR_A"],
  ["$(", "$("],
  ["$", "$"],
  ["foo$", "foo$"],
  ["$VAR_A", "$VAR_A"],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax kube leaves alone
  ["${VAR_A}", "${VAR_A}"],
  ["$()", "$()"],
  ["$(VAR_A)$", "A$"],
  ["no vars", "no vars"],
  ["", ""],
];

describe("expand", () => {
  for (const [input, want] of cases) {
    test(JSON.stringify(input), () => assert.equal(expand(input, lookup), want));
  }
});
