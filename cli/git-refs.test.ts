import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkCloneURL, parseLsRemote, pickTarget, refPatterns } from "./git-refs.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const T = "c".repeat(40);
const listing = parseLsRemote(
  [
    "ref: refs/heads/main\tHEAD",
    `${A}\tHEAD`,
    `${A}\trefs/heads/main`,
    `${B}\trefs/heads/v1`,
    `${T}\trefs/tags/v1`,
    `${B}\trefs/tags/v1^{}`,
    `${T}\trefs/tags/v2`,
    "",
  ].join("\n"),
);
const URL = "https://github.com/acme/api.git";

describe("git ls-remote, read", () => {
  test("refs, an annotated tag as its commit, and where HEAD points", () => {
    assert.equal(listing.head, "refs/heads/main");
    assert.equal(listing.refs.get("refs/heads/main"), A);
    assert.equal(listing.refs.get("refs/tags/v1"), B, "the peeled commit, not the tag object");
  });
  test("what to ask for", () => {
    assert.deepEqual(refPatterns(undefined), ["HEAD"]);
    assert.deepEqual(refPatterns("main"), ["refs/heads/main", "refs/tags/main", "refs/tags/main^{}"]);
    assert.deepEqual(refPatterns("refs/pull/7/head"), ["refs/pull/7/head", "refs/pull/7/head^{}"]);
  });
});

describe("pickTarget", () => {
  test("nothing given: the default branch's head", () => {
    assert.deepEqual(pickTarget(undefined, listing, URL), { sha: A, branch: "main" });
  });
  test("a name: the branch before a tag of that name; else the tag", () => {
    assert.deepEqual(pickTarget("v1", listing, URL), { sha: B, branch: "v1" });
    assert.deepEqual(pickTarget("v2", listing, URL), { sha: T, tag: "v2" });
    assert.deepEqual(pickTarget("refs/tags/v1", listing, URL), { sha: B, tag: "v1" });
  });
  test("not there: says so, and what a short sha would need", () => {
    assert.throws(
      () => pickTarget("nope", listing, URL),
      /https:\/\/github.com\/acme\/api.git has no branch or tag "nope"$/,
    );
    assert.throws(() => pickTarget("4f2c1a9", listing, URL), /full 40-character sha/);
    assert.throws(() => pickTarget(undefined, parseLsRemote(""), URL), /has no default branch/);
  });
});

test("checkCloneURL: plain transports only, never an option or a command", () => {
  for (const ok of [
    URL,
    "http://127.0.0.1:8080/r",
    "ssh://git@host/r.git",
    "git@github.com:acme/api.git",
    "file:///srv/r",
  ])
    assert.doesNotThrow(() => checkCloneURL(ok), ok);
  for (const bad of [
    "--upload-pack=touch /tmp/x",
    "ext::sh -c touch% /tmp/x",
    "-oProxyCommand=x",
    "/local/path",
  ])
    assert.throws(() => checkCloneURL(bad), /not running git on it/, bad);
});
