import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { build as buildSchema } from "../api/build.ts";
import { labelValue } from "../api/new-build.ts";
import { makeRepository } from "../test/fixtures/webhook.ts";
import { buildFromPullRequest, buildFromPush } from "./build-from-push.ts";
import type { PullRequestEvent, PushEvent } from "./payloads.ts";

const SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
const repo = makeRepository("api", "acme", "api", { branches: ["main", "release/*"] });
const repoWithTags = makeRepository("api", "acme", "api", { branches: ["main"], tags: true });

function push(ref: string, after = SHA, extra: Partial<PushEvent> = {}): PushEvent {
  return {
    ref,
    before: "0".repeat(40),
    after,
    compare: "https://github.com/acme/api/compare/x",
    repository: { full_name: "acme/api", name: "api", owner: { login: "acme" } },
    head_commit: { id: after, message: "Fix it", author: { name: "Ada" } },
    ...extra,
  };
}

describe("buildFromPush", () => {
  const cases: Array<[string, PushEvent, typeof repo, RegExp | "build"]> = [
    ["a watched branch builds", push("refs/heads/main"), repo, "build"],
    ["a glob-matched branch builds", push("refs/heads/release/1.2"), repo, "build"],
    ["an unwatched branch is ignored", push("refs/heads/feature/x"), repo, /matches none of spec.branches/],
    ["release/* does not match deeper paths", push("refs/heads/release/1/hotfix"), repo, /matches none/],
    [
      "a deletion builds nothing",
      push("refs/heads/main", "0".repeat(40), { deleted: true }),
      repo,
      /deleted/,
    ],
    [
      "all-zero after without deleted flag builds nothing",
      push("refs/heads/main", "0".repeat(40)),
      repo,
      /deleted/,
    ],
    ["tags are off by default", push("refs/tags/v1.0.0"), repo, /spec.tags is false/],
    ["tags build when enabled", push("refs/tags/v1.0.0"), repoWithTags, "build"],
    ["other refs are ignored", push("refs/notes/commits"), repo, /neither a branch nor a tag/],
    [
      "push events can be disabled",
      push("refs/heads/main"),
      makeRepository("api", "acme", "api", {
        webhook: { secretRef: { name: "s", key: "k" }, events: ["pull_request"] },
      }),
      /not enabled/,
    ],
  ];
  for (const [name, event, repository, expected] of cases) {
    test(name, () => {
      const outcome = buildFromPush(event, repository, "delivery-1");
      if (expected === "build") {
        assert.equal(outcome.kind, "build");
      } else {
        assert.equal(outcome.kind, "ignore");
        assert.match(outcome.kind === "ignore" ? outcome.reason : "", expected);
      }
    });
  }

  test("the Build is a valid Build with labels, revision and trigger", () => {
    const outcome = buildFromPush(push("refs/heads/release/1.2"), repo, "d-1");
    assert.equal(outcome.kind, "build");
    if (outcome.kind !== "build") return;
    const build = buildSchema.parse(outcome.build);
    assert.deepEqual(build.metadata.labels, {
      "kiln.dev/repository": "api",
      "kiln.dev/branch": labelValue("release/1.2"),
      "kiln.dev/commit": "6113728",
    });
    assert.equal(build.metadata.namespace, "default");
    assert.deepEqual(build.spec.revision, {
      sha: SHA,
      ref: "refs/heads/release/1.2",
      branch: "release/1.2",
      message: "Fix it",
      author: "Ada",
      compareURL: "https://github.com/acme/api/compare/x",
    });
    assert.deepEqual(build.spec.trigger, { event: "push", deliveryID: "d-1" });
  });

  test("the push chain and the arrival are recorded, so pushes order by themselves, never by name", () => {
    const PARENT = "5".repeat(40);
    const linked = buildFromPush(
      push("refs/heads/main", SHA, { before: PARENT }),
      repo,
      "d-1",
      "2026-01-01T00:00:00.123Z",
    );
    assert.ok(linked.kind === "build");
    const build = buildSchema.parse(linked.build);
    assert.equal(build.spec.revision.before, PARENT);
    assert.equal(build.spec.trigger.receivedAt, "2026-01-01T00:00:00.123Z");
    // A new branch's `before` is all zeros: it links to nothing.
    const created = buildFromPush(push("refs/heads/main"), repo, "d-2");
    assert.ok(created.kind === "build");
    assert.equal("before" in created.build.spec.revision, false);
    assert.equal("receivedAt" in created.build.spec.trigger!, false);
    const tag = buildFromPush(push("refs/tags/v1", SHA, { before: PARENT }), repoWithTags, "d-3");
    assert.ok(tag.kind === "build");
    assert.equal(tag.build.spec.revision.before, PARENT);
  });

  test("the name depends on the delivery: same delivery, same name; another delivery, another name", () => {
    const a = buildFromPush(push("refs/heads/main"), repo, "d-1");
    const b = buildFromPush(push("refs/heads/main"), repo, "d-1");
    const c = buildFromPush(push("refs/heads/main"), repo, "d-2");
    assert.ok(a.kind === "build" && b.kind === "build" && c.kind === "build");
    assert.equal(a.build.metadata.name, b.build.metadata.name);
    assert.notEqual(a.build.metadata.name, c.build.metadata.name);
    assert.match(a.build.metadata.name ?? "", /^api-6113728-[0-9a-f]{6}$/);
  });
});

describe("buildFromPullRequest", () => {
  function pr(action: string, headRepo: string | null, base = "main"): PullRequestEvent {
    return {
      action,
      number: 7,
      repository: { full_name: "acme/api", name: "api", owner: { login: "acme" } },
      pull_request: {
        number: 7,
        title: "Add a feature",
        html_url: "https://github.com/acme/api/pull/7",
        user: { login: "octo" },
        head: { ref: "feature", sha: SHA, repo: headRepo === null ? null : { full_name: headRepo } },
        base: { ref: base, sha: "a".repeat(40), repo: { full_name: "acme/api" } },
      },
    };
  }
  const cases: Array<[string, PullRequestEvent, "build" | RegExp, boolean?]> = [
    ["opened builds the head", pr("opened", "acme/api"), "build", false],
    ["synchronize builds", pr("synchronize", "acme/api"), "build", false],
    ["reopened builds", pr("reopened", "acme/api"), "build", false],
    ["a fork is marked as a fork", pr("opened", "mallory/api"), "build", true],
    ["a deleted fork is still a fork", pr("opened", null), "build", true],
    ["labeled changes no code", pr("labeled", "acme/api"), /changes no code/],
    ["closed changes no code", pr("closed", "acme/api"), /changes no code/],
    ["a PR into an unwatched branch is ignored", pr("opened", "acme/api", "gh-pages"), /targets gh-pages/],
  ];
  for (const [name, event, expected, fork] of cases) {
    test(name, () => {
      const outcome = buildFromPullRequest(event, repo, "d-9");
      if (expected !== "build") {
        assert.equal(outcome.kind, "ignore");
        assert.match(outcome.kind === "ignore" ? outcome.reason : "", expected);
        return;
      }
      assert.equal(outcome.kind, "build");
      if (outcome.kind !== "build") return;
      const build = buildSchema.parse(outcome.build);
      assert.deepEqual(build.spec.trigger, {
        event: "pull_request",
        deliveryID: "d-9",
        pullRequest: { number: 7, fork },
      });
      assert.equal(build.spec.revision.sha, SHA);
      assert.equal(build.spec.revision.ref, "refs/pull/7/head");
      assert.equal(build.spec.revision.branch, "feature");
    });
  }
  test("synchronize records the head it moved from, and the arrival", () => {
    const event = { ...pr("synchronize", "acme/api"), before: "5".repeat(40) };
    const outcome = buildFromPullRequest(event, repo, "d-9", "2026-01-01T00:00:00.456Z");
    assert.ok(outcome.kind === "build");
    assert.equal(outcome.build.spec.revision.before, "5".repeat(40));
    assert.equal(outcome.build.spec.trigger?.receivedAt, "2026-01-01T00:00:00.456Z");
  });
});
