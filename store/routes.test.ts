import { describe, test } from "node:test";
import { parseFlag, parseOffset, route } from "./routes.ts";

describe("route", () => {
  const table: Array<[string, string, string, object]> = [
    [
      "append",
      "PUT",
      "/v1/logs/team-a/app-1/npm%20test",
      { kind: "append-log", ref: { namespace: "team-a", build: "app-1", step: "npm test" } },
    ],
    [
      "append by POST",
      "POST",
      "/v1/logs/team-a/app-1/s",
      { kind: "append-log", ref: { namespace: "team-a", build: "app-1", step: "s" } },
    ],
    [
      "read",
      "GET",
      "/v1/logs/team-a/app-1/v1.0",
      { kind: "read-log", ref: { namespace: "team-a", build: "app-1", step: "v1.0" } },
    ],
    [
      "a Build's steps",
      "GET",
      "/v1/logs/team-a/app-1",
      { kind: "list-steps", ref: { namespace: "team-a", build: "app-1" } },
    ],
    [
      "restore",
      "GET",
      "/v1/caches/team-a/app",
      { kind: "restore-cache", ref: { namespace: "team-a", repository: "app" }, head: false },
    ],
    [
      "look up",
      "HEAD",
      "/v1/caches/team-a/app",
      { kind: "restore-cache", ref: { namespace: "team-a", repository: "app" }, head: true },
    ],
    [
      "save",
      "PUT",
      "/v1/caches/team-a/app/npm-3f2a",
      { kind: "save-cache", ref: { namespace: "team-a", repository: "app" }, key: "npm-3f2a" },
    ],
    ["not the API", "GET", "/", { status: 404, message: "no such path: /" }],
    ["another version", "GET", "/v2/logs/a/b", { status: 404, message: "no such path: /v2/logs/a/b" }],
    [
      "too deep",
      "GET",
      "/v1/logs/a/b/c/d",
      { status: 404, message: "a log is /v1/logs/<namespace>/<build>[/<step>]" },
    ],
    [
      "a bad namespace",
      "GET",
      "/v1/logs/Team/b",
      { status: 400, message: '"Team" is not a valid namespace: a namespace is a DNS label' },
    ],
    [
      "a step that climbs",
      "GET",
      "/v1/logs/a/b/..%2F..",
      {
        status: 400,
        message: `"../.." is not a valid step: a step name has letters, digits, spaces, '-', '_' or '.', at most 63`,
      },
    ],
    [
      "a key with a slash",
      "PUT",
      "/v1/caches/a/app/x%2Fy",
      {
        status: 400,
        message: `"x/y" is not a valid key: a cache key is 1–200 printable ASCII characters without '/'`,
      },
    ],
    [
      "broken percent-encoding",
      "GET",
      "/v1/logs/a/%E0%A4%A",
      { status: 400, message: "a path segment is not valid percent-encoding: %E0%A4%A" },
    ],
    [
      "a method a log has not",
      "DELETE",
      "/v1/logs/a/b/s",
      { status: 405, message: "/v1/logs/a/b/s accepts GET or PUT or POST", allow: "GET, PUT, POST" },
    ],
    [
      "steps are read only",
      "PUT",
      "/v1/logs/a/b",
      { status: 405, message: "/v1/logs/a/b accepts GET", allow: "GET" },
    ],
    [
      "a cache is saved by PUT",
      "POST",
      "/v1/caches/a/app/k",
      { status: 405, message: "/v1/caches/a/app/k accepts PUT", allow: "PUT" },
    ],
  ];
  for (const [name, method, path, expected] of table) {
    test(name, (t) => t.assert.deepEqual(route(method, path), expected));
  }
});

describe("query parameters", () => {
  test("offsets", (t) => {
    t.assert.equal(parseOffset("0", "offset", true), 0);
    t.assert.equal(parseOffset("1048576", "offset", true), 1_048_576);
    t.assert.equal(parseOffset(undefined, "offset", false), 0);
    t.assert.equal(parseOffset(undefined, "offset", true), "offset is required (a byte offset)");
    for (const bad of ["-1", "1.5", "1e3", "", "9999999999999999"]) {
      t.assert.match(String(parseOffset(bad, "offset", true)), /must be a non-negative integer/, bad);
    }
  });
  test("flags", (t) => {
    t.assert.equal(parseFlag(undefined, "follow"), false);
    t.assert.equal(parseFlag("true", "follow"), true);
    t.assert.equal(parseFlag("1", "follow"), true);
    t.assert.equal(parseFlag("0", "follow"), false);
    t.assert.equal(parseFlag("yes", "follow"), 'follow must be true or false, not "yes"');
  });
});
