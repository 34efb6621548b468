import assert from "node:assert/strict";
import { test } from "node:test";
import type { Build } from "../api/build.ts";
import { resolveBuild } from "./resolve-build.ts";

const build = (name: string, repository: string, sha: string, minute: number): Build => ({
  apiVersion: "kiln.dev/v1alpha1",
  kind: "Build",
  metadata: {
    name,
    namespace: "ci",
    creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
  },
  spec: {
    repository,
    revision: { sha: sha.padEnd(40, "0"), branch: "main" },
    trigger: { event: "push" },
    pauseOnFailure: false,
    timeout: "1h",
    cancel: false,
  },
});

const builds = [
  build("api-4f2c1a9-111111", "api", "4f2c1a9", 1),
  build("api-4f2c1a9-manual-222222", "api", "4f2c1a9", 3),
  build("api-77aa001-333333", "api", "77aa001", 2),
  build("web-aaaa123-444444", "web", "aaaa123", 4),
];
const name = (query: string) => {
  const r = resolveBuild(query, builds, "ci");
  return "build" in r ? r.build.metadata.name : r.error;
};

test("a Build's name is that build", () => {
  assert.equal(name("api-77aa001-333333"), "api-77aa001-333333");
  // Even when another build's name starts with it (a prefix would be ambiguous).
  const longer = [...builds, build("api-77aa001-333333-x", "api", "77aa001", 5)];
  const r = resolveBuild("api-77aa001-333333", longer, "ci");
  assert.equal("build" in r ? r.build.metadata.name : r.error, "api-77aa001-333333");
});
test("a repository's name is its newest build", () => {
  assert.equal(name("api"), "api-4f2c1a9-manual-222222");
  assert.equal(name("web"), "web-aaaa123-444444");
});
test("the start of one build's name is that build; of several, the candidates, newest first", () => {
  assert.equal(name("api-77"), "api-77aa001-333333");
  assert.equal(
    name("api-4f2c"),
    '"api-4f2c" could be any of 2 builds: api-4f2c1a9-manual-222222, api-4f2c1a9-111111',
  );
});
test("the start of a commit sha (4 hex digits at least) is that commit's newest build", () => {
  assert.equal(name("4f2c1a9"), "api-4f2c1a9-manual-222222");
  assert.equal(name("aaaa"), "web-aaaa123-444444");
  assert.match(name("aaa"), /^no build "aaa" in namespace ci/);
});
test("nothing matching: not found, saying where it looked", () => {
  assert.equal(
    name("nope"),
    'no build "nope" in namespace ci (nor a repository, a build name or a commit it starts): kiln get lists them',
  );
  assert.match(name("api-4f2c1a9-x"), /^no build/);
});
