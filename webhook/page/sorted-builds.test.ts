import assert from "node:assert/strict";
import { test } from "node:test";
import { newestFirst } from "../../api/build.ts";
import { sampleBuild } from "../../test/fixtures/build.ts";
import { SortedBuilds } from "./sorted-builds.ts";

const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();

test("a repository's Builds stay newest first however they arrive, change and go", () => {
  const sorted = new SortedBuilds();
  // Arrival in a scrambled order, with ties on the creation time (then by name).
  const order = [5, 1, 9, 3, 7, 0, 8, 2, 6, 4];
  const builds = order.map((i) => sampleBuild({ name: `b-${i}`, created: at(Math.floor(i / 2)) }));
  for (const b of builds) sorted.upsert(b);
  const expected = [...builds].sort(newestFirst).map((b) => b.metadata.name);
  assert.deepEqual(
    sorted.of("ci", "api").map((b) => b.metadata.name),
    expected,
  );
  // A change (a new status) replaces in place: no duplicate, same order.
  const changed = sampleBuild({ name: "b-3", created: at(1), status: { phase: "Running" } });
  sorted.upsert(changed, builds[order.indexOf(3)]);
  sorted.upsert(sampleBuild({ name: "b-4", created: at(2), status: { phase: "Failed" } }));
  const now = sorted.of("ci", "api");
  assert.deepEqual(
    now.map((b) => b.metadata.name),
    expected,
  );
  assert.equal(now.find((b) => b.metadata.name === "b-3")?.status?.phase, "Running");
  assert.equal(now.find((b) => b.metadata.name === "b-4")?.status?.phase, "Failed");
  sorted.remove(sampleBuild({ name: "b-9", created: at(4) }));
  sorted.remove(sampleBuild({ name: "b-0", created: at(0) }));
  sorted.remove(sampleBuild({ name: "nope", created: at(3) }));
  assert.deepEqual(
    sorted.of("ci", "api").map((b) => b.metadata.name),
    expected.filter((n) => n !== "b-9" && n !== "b-0"),
  );
});

test("repositories and namespaces are kept apart; a repository without Builds is gone", () => {
  const sorted = new SortedBuilds();
  sorted.upsert(sampleBuild({ name: "x" }));
  sorted.upsert(sampleBuild({ name: "y", spec: { repository: "web" } }));
  assert.deepEqual(sorted.repositories("ci"), ["api", "web"]);
  assert.deepEqual(sorted.repositories("other"), []);
  sorted.remove(sampleBuild({ name: "y", spec: { repository: "web" } }));
  assert.deepEqual(sorted.repositories("ci"), ["api"]);
  assert.deepEqual(sorted.of("ci", "web"), []);
});

test("10,000 Builds arriving oldest first (as a list does) are indexed in well under a second", () => {
  const sorted = new SortedBuilds();
  const started = performance.now();
  for (let i = 0; i < 10_000; i++)
    sorted.upsert(sampleBuild({ name: `b-${String(i).padStart(5, "0")}`, created: at(i) }));
  assert.ok(performance.now() - started < 1000);
  const list = sorted.of("ci", "api");
  assert.equal(list[0]!.metadata.name, "b-09999");
  assert.equal(list[9999]!.metadata.name, "b-00000");
});
