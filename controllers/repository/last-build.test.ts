import assert from "node:assert/strict";
import { test } from "node:test";
import { newestBuild } from "./last-build.ts";

const build = (name: string, creationTimestamp?: string) => ({
  metadata: { name, ...(creationTimestamp && { creationTimestamp }) },
});

test("the newest Build by creation time, ties broken by name; none for no Builds", () => {
  assert.equal(newestBuild([]), undefined);
  assert.equal(newestBuild([build("a", "2026-01-01T00:00:02Z"), build("b", "2026-01-01T00:00:01Z")]), "a");
  assert.equal(
    newestBuild([build("api-2", "2026-01-01T00:00:01Z"), build("api-10", "2026-01-01T00:00:01Z")]),
    "api-2",
  );
  assert.equal(newestBuild([build("x"), build("y", "2026-01-01T00:00:00Z")]), "y");
});
