import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { evaluateJSONPath } from "./index.ts";

const obj = {
  metadata: { name: "b1", labels: { "kiln.dev/commit": "4f2c1a9", app: "api" } },
  spec: { repository: "api", count: 3, ok: true, revision: { sha: "abc" } },
  status: {
    conditions: [
      { type: "Ready", status: "True", n: 1 },
      { type: "WebhookReady", status: "False", n: 2 },
    ],
    steps: [{ name: "install" }, { name: "test" }, { name: "lint" }],
    empty: [],
  },
};

const cases: [string, unknown[]][] = [
  [".spec.repository", ["api"]],
  ["{.spec.repository}", ["api"]],
  ["{ .spec.repository }", ["api"]],
  ["$.spec.repository", ["api"]],
  [".spec.revision", [{ sha: "abc" }]],
  [".spec.count", [3]],
  [".spec.missing", []],
  [".spec.repository.deeper", []],
  [".metadata.labels.kiln\\.dev/commit", ["4f2c1a9"]],
  [".metadata.labels['kiln.dev/commit']", ["4f2c1a9"]],
  ['.metadata.labels["kiln.dev/commit"]', ["4f2c1a9"]],
  [".status.steps[0].name", ["install"]],
  [".status.steps[-1].name", ["lint"]],
  [".status.steps[7].name", []],
  [".status.steps[*].name", ["install", "test", "lint"]],
  [".status.steps[0:2].name", ["install", "test"]],
  [".status.steps[::2].name", ["install", "lint"]],
  [".status.steps[0,2].name", ["install", "lint"]],
  [".status.empty[0]", []],
  ['.status.conditions[?(@.type=="Ready")].status', ["True"]],
  ['.status.conditions[?(@.type == "WebhookReady")].status', ["False"]],
  [".status.conditions[?(@.type=='Missing')].status", []],
  [".status.conditions[?(@.n > 1)].type", ["WebhookReady"]],
  ['.status.conditions[?(@.type != "Ready")].type', ["WebhookReady"]],
  [".status.conditions[?(@.n)].type", ["Ready", "WebhookReady"]],
  ["..sha", ["abc"]],
  [".metadata.labels.*", ["api", "4f2c1a9"]],
];

describe("evaluateJSONPath", () => {
  for (const [expression, expected] of cases) {
    test(expression, () => {
      assert.deepEqual(evaluateJSONPath(obj, expression), expected);
    });
  }

  for (const bad of [
    "{.spec",
    ".spec[",
    ".status.steps[a]",
    "{.a}{.b}",
    "{range .items[*]}{.x}{end}",
    ".spec..",
    ".a[?(@.x==)]",
  ]) {
    test(`throws on ${bad}`, () => {
      assert.throws(() => evaluateJSONPath(obj, bad), /JSONPath|range|unterminated|invalid|supported/i);
    });
  }
});
