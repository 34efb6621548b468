import assert from "node:assert/strict";
import { test } from "node:test";
import { cacheEntryPrefix, parseCacheKey, parseLogKey, segment, stepLogPrefix } from "./keys.ts";

test("segments are safe file names and S3 keys: no '/', no '.' or '..', prefixes stay prefixes", (t) => {
  t.assert.equal(segment(".."), "%2E%2E");
  t.assert.equal(segment("feature/x"), "feature%2Fx");
  t.assert.equal(segment("npm test"), "npm%20test");
  assert.ok(segment("npm-3f2a").startsWith(segment("npm-")));
  assert.ok(segment("v1.0-linux").startsWith(segment("v1.")));
});

test("keys parse back to what they name; other shapes do not parse", (t) => {
  const step = stepLogPrefix({ namespace: "team-a", build: "app-1", step: "npm test" });
  t.assert.deepEqual(parseLogKey(`${step}data`), {
    namespace: "team-a",
    build: "app-1",
    step: "npm test",
    file: "data",
  });
  const entry = cacheEntryPrefix({ namespace: "team-a", repository: "app" }, "feature/x", "npm-1.2");
  t.assert.equal(entry, "caches/team-a/app/feature%2Fx/npm-1%2E2/");
  t.assert.deepEqual(parseCacheKey(`${entry}archive`), {
    namespace: "team-a",
    repository: "app",
    branch: "feature/x",
    key: "npm-1.2",
    file: "archive",
  });
  t.assert.equal(parseLogKey("logs/a/b/c"), undefined);
  t.assert.equal(parseLogKey("caches/a/b/c/d"), undefined);
  t.assert.equal(parseCacheKey("caches/a/b/%E0%A4%A/k/archive"), undefined);
});
