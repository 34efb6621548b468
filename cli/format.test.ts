import assert from "node:assert/strict";
import { test } from "node:test";
import type { Build } from "../api/build.ts";
import { buildTable, stepsSummary, table } from "./format.ts";

const NOW = Date.parse("2026-01-01T01:00:00Z");
const build = (name: string, minutesAgo: number, extra: Partial<Build> = {}): Build => ({
  apiVersion: "kiln.dev/v1alpha1",
  kind: "Build",
  metadata: { name, namespace: "ci", creationTimestamp: new Date(NOW - minutesAgo * 60_000).toISOString() },
  spec: {
    repository: "api",
    revision: { sha: "4f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39", branch: "main" },
    trigger: { event: "push" },
    pauseOnFailure: false,
    timeout: "1h",
    cancel: false,
  },
  ...extra,
});

test("table: columns two spaces apart, as wide as their widest cell, no trailing blanks", () => {
  assert.equal(
    table([
      ["A", "BB", "C"],
      ["long", "x", ""],
    ]),
    "A     BB  C\nlong  x",
  );
});

test("stepsSummary: every step in order, a failure with its exit code", () => {
  assert.equal(
    stepsSummary([
      { name: "install", phase: "Succeeded", exitCode: 0 },
      { name: "test", phase: "Failed", exitCode: 2 },
      { name: "deploy", phase: "Skipped" },
      { name: "slow", phase: "TimedOut" },
      { name: "debug", phase: "Paused", exitCode: 5 },
      { name: "look", phase: "Paused" },
    ]),
    "install:ok test:failed(2) deploy:skipped slow:timed-out debug:paused(5) look:paused",
  );
  assert.equal(stepsSummary(undefined), "-");
});

test("buildTable: newest first; a running build's duration so far; kubectl's ages", () => {
  const rows = buildTable(
    [
      build("old", 90, {
        status: {
          phase: "Failed",
          duration: "1m02s",
          steps: [
            { name: "install", phase: "Succeeded" },
            { name: "test", phase: "Failed", exitCode: 1 },
          ],
        },
      }),
      build("new", 3, {
        status: {
          phase: "Running",
          startTime: new Date(NOW - 150_000).toISOString(),
          steps: [{ name: "install", phase: "Running" }],
        },
      }),
      build("queued", 0.5),
    ],
    { now: NOW },
  );
  assert.equal(
    rows,
    [
      "NAME    REPOSITORY  BRANCH  COMMIT   PHASE    DURATION  AGE  STEPS",
      "queued  api         main    4f2c1a9  -        -         30s  -",
      "new     api         main    4f2c1a9  Running  2m30s     3m   install:running",
      "old     api         main    4f2c1a9  Failed   1m02s     90m  install:ok test:failed(1)",
    ].join("\n"),
  );
});

test("buildTable: NAMESPACE for every namespace; no REPOSITORY for one repository's builds", () => {
  const [header, row] = buildTable([build("b", 1)], { now: NOW, namespaces: true, repository: true }).split(
    "\n",
  );
  assert.deepEqual(header!.split(/\s+/), [
    "NAMESPACE",
    "NAME",
    "BRANCH",
    "COMMIT",
    "PHASE",
    "DURATION",
    "AGE",
    "STEPS",
  ]);
  assert.deepEqual(row!.split(/\s+/), ["ci", "b", "main", "4f2c1a9", "-", "-", "60s", "-"]);
});
