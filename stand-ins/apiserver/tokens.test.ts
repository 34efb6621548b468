// Token audiences as kube-apiserver checks them: requests need the server's audience; TokenReview answers
// with the asked audiences the token is valid for; the admin token is audience-agnostic (the server's only).
import { describe, test } from "node:test";
import { ISSUER, Tokens } from "./tokens.ts";

const tokens = new Tokens(() => true, "admin-token");
const now = 1_800_000_000;
const issue = (audiences: string[]) =>
  tokens.issue({
    namespace: "ci",
    name: "kiln-build",
    uid: "u-1",
    audiences,
    issuedAt: now - 10,
    expiresAt: now + 600,
  });

describe("token audiences", () => {
  const store = issue(["kiln-store"]);
  const api = issue([ISSUER]);
  const table: Array<[string, string, string[], string[] | undefined]> = [
    // what, token, asked audiences ([]: the server's), the audiences answered (undefined: refused)
    ["a store token asked for the store", store, ["kiln-store"], ["kiln-store"]],
    ["a store token for the API server", store, [], undefined],
    ["a store token among several asked", store, ["kiln-store", ISSUER], ["kiln-store"]],
    ["an API token for the API server", api, [], [ISSUER]],
    ["an API token asked for the store only", api, ["kiln-store"], undefined],
    ["the admin token for the API server", "admin-token", [], [ISSUER]],
    ["the admin token asked for the store only", "admin-token", ["kiln-store"], undefined],
    ["the admin token among several asked", "admin-token", ["kiln-store", ISSUER], [ISSUER]],
    ["a token that names no audience is valid for none", issue([]), [], undefined],
  ];
  for (const [what, token, asked, answered] of table) {
    test(what, (t) => t.assert.deepEqual(tokens.review(`Bearer ${token}`, now, asked)?.audiences, answered));
  }
  test("a request to the API with a store token is not authenticated", (t) => {
    t.assert.equal(tokens.authenticate(`Bearer ${store}`, now), undefined);
    t.assert.equal(
      tokens.authenticate(`Bearer ${api}`, now)?.username,
      "system:serviceaccount:ci:kiln-build",
    );
  });
});
