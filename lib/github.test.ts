import assert from "node:assert/strict";
import { test } from "node:test";
import { GitHubClients, statusOf } from "./github.ts";
import { silentLogger } from "./log.ts";

test("one client per API root and token: a trailing newline or slash makes no other client", () => {
  const clients = new GitHubClients({ log: silentLogger() });
  const a = clients.for({ token: "ghp_x\n", baseUrl: "https://ghe.example/api/v3/" });
  assert.equal(clients.for({ token: "ghp_x", baseUrl: "https://ghe.example/api/v3" }), a);
  assert.notEqual(clients.for({ token: "ghp_y", baseUrl: "https://ghe.example/api/v3" }), a);
  assert.notEqual(clients.for({ token: "ghp_x" }), a);
  assert.equal(clients.for({}), clients.for({ token: "  " }), "a blank token is no token");
});

test("statusOf reads Octokit's RequestError status", () => {
  assert.equal(statusOf(Object.assign(new Error("x"), { status: 404 })), 404);
  assert.equal(statusOf(new Error("network")), undefined);
});
