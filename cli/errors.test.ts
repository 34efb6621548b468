import assert from "node:assert/strict";
import { test } from "node:test";
import { KubeApiError } from "../lib/kube.ts";
import { explain } from "./errors.ts";

const SERVER = "https://k8s.example:6443";
const api = (code: number, message?: string) =>
  new KubeApiError(code, { kind: "Status", code, ...(message ? { message } : {}) }, "GET /x");

test("the API server's refusals, in a sentence", () => {
  assert.match(
    explain(api(401), SERVER),
    /^the API server at https:\/\/k8s.example:6443 does not accept your credentials/,
  );
  const forbidden =
    'builds.kiln.dev "b" is forbidden: User "ada" cannot get resource "builds" in API group "kiln.dev" in the namespace "ci"';
  assert.equal(explain(api(403, forbidden), SERVER), forbidden);
  assert.match(
    explain(api(404, "the server could not find the requested resource"), SERVER),
    /is Kiln installed on this cluster\?/,
  );
  assert.equal(explain(api(404, 'builds.kiln.dev "b" not found'), SERVER), 'builds.kiln.dev "b" not found');
});

test("an API server out of reach", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });
  assert.equal(
    explain(refused, SERVER),
    `cannot reach the API server at ${SERVER}: connect ECONNREFUSED 127.0.0.1:6443`,
  );
});
