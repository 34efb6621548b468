import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  compareURL,
  deliveredUpdates,
  MAX_PUSH_COMMITS,
  type PushContext,
  type PushedCommit,
  pushPayload,
  type RefUpdate,
  refUpdates,
  ZERO_SHA,
} from "./push-event.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);
const HTML = "http://127.0.0.1:8081/acme/app";

function commit(sha: string, distinct = true): PushedCommit {
  return {
    sha,
    tree: "f".repeat(40),
    message: `Commit ${sha.slice(0, 3)}`,
    timestamp: "2025-01-02T03:04:05+00:00",
    author: { name: "Ada", email: "ada@example.com" },
    committer: { name: "Ada", email: "ada@example.com" },
    added: [".kiln.yaml"],
    removed: [],
    modified: [],
    distinct,
  };
}

const context: PushContext = {
  html: HTML,
  repository: { full_name: "acme/app" },
  pusher: { name: "ada", email: "ada@users.noreply.github.com" },
  sender: { login: "ada" },
  template: { ref: "refs/heads/master", hook_id: 1, extra: "from the template" },
};

describe("refUpdates: the refs a push changed, from the refs before and after it", () => {
  const cases: Array<[string, Record<string, string>, Record<string, string>, RefUpdate[]]> = [
    ["nothing changed", { "refs/heads/main": A }, { "refs/heads/main": A }, []],
    [
      "a first push creates the branch",
      {},
      { "refs/heads/main": A },
      [{ ref: "refs/heads/main", before: ZERO_SHA, after: A }],
    ],
    [
      "a branch moved",
      { "refs/heads/main": A },
      { "refs/heads/main": B },
      [{ ref: "refs/heads/main", before: A, after: B }],
    ],
    [
      "a branch deleted",
      { "refs/heads/main": A, "refs/heads/topic": B },
      { "refs/heads/main": A },
      [{ ref: "refs/heads/topic", before: B, after: ZERO_SHA }],
    ],
    [
      "several at once, in ref order",
      { "refs/heads/main": A, "refs/heads/old": B },
      { "refs/heads/main": C, "refs/tags/v1": A, "refs/heads/new": A },
      [
        { ref: "refs/heads/main", before: A, after: C },
        { ref: "refs/heads/new", before: ZERO_SHA, after: A },
        { ref: "refs/heads/old", before: B, after: ZERO_SHA },
        { ref: "refs/tags/v1", before: ZERO_SHA, after: A },
      ],
    ],
  ];
  for (const [name, before, after, expected] of cases) {
    test(name, () => {
      assert.deepEqual(refUpdates(new Map(Object.entries(before)), new Map(Object.entries(after))), expected);
    });
  }
});

test("deliveredUpdates: tags are delivered when at most three are pushed at once, branches always", () => {
  const tag = (n: number): RefUpdate => ({ ref: `refs/tags/v${n}`, before: ZERO_SHA, after: A });
  const branch: RefUpdate = { ref: "refs/heads/main", before: A, after: B };
  assert.deepEqual(deliveredUpdates([branch, tag(1), tag(2), tag(3)]), [branch, tag(1), tag(2), tag(3)]);
  assert.deepEqual(deliveredUpdates([branch, tag(1), tag(2), tag(3), tag(4)]), [branch]);
});

test("compareURL: a first push links its commit, a new ref its name, a move before...after", () => {
  const created = { ref: "refs/heads/main", before: ZERO_SHA, after: A };
  assert.equal(compareURL(HTML, created, true), `${HTML}/commit/${A}`);
  assert.equal(
    compareURL(HTML, { ...created, ref: "refs/heads/feature/x" }, false),
    `${HTML}/compare/feature/x`,
  );
  assert.equal(compareURL(HTML, { ...created, ref: "refs/tags/v1" }, true), `${HTML}/compare/v1`);
  assert.equal(
    compareURL(HTML, { ref: "refs/heads/main", before: A, after: B }, false),
    `${HTML}/compare/${"a".repeat(12)}...${"b".repeat(12)}`,
  );
  assert.equal(
    compareURL(HTML, { ref: "refs/heads/main", before: A, after: ZERO_SHA }, false),
    `${HTML}/compare/${"a".repeat(12)}...000000000000`,
  );
});

describe("pushPayload", () => {
  test("a moved branch: before, after, its commits oldest first, the head commit, links to the repository's pages", () => {
    const payload = pushPayload(
      {
        update: { ref: "refs/heads/main", before: A, after: C },
        commits: [commit(B), commit(C)],
        head: commit(C),
        forced: false,
        firstPush: false,
      },
      context,
    );
    assert.equal(payload.ref, "refs/heads/main");
    assert.equal(payload.before, A);
    assert.equal(payload.after, C);
    assert.deepEqual([payload.created, payload.deleted, payload.forced], [false, false, false]);
    assert.equal(payload.base_ref, null);
    assert.equal(payload.extra, "from the template");
    assert.deepEqual(payload.pusher, context.pusher);
    assert.deepEqual(payload.repository, context.repository);
    const commits = payload.commits as Array<Record<string, unknown>>;
    assert.deepEqual(
      commits.map((c) => c.id),
      [B, C],
    );
    assert.deepEqual(commits[0], {
      id: B,
      tree_id: "f".repeat(40),
      distinct: true,
      message: "Commit bbb",
      timestamp: "2025-01-02T03:04:05+00:00",
      url: `${HTML}/commit/${B}`,
      author: { name: "Ada", email: "ada@example.com" },
      committer: { name: "Ada", email: "ada@example.com" },
      added: [".kiln.yaml"],
      removed: [],
      modified: [],
    });
    assert.equal((payload.head_commit as { id: string }).id, C);
  });

  test("a deleted ref: after is all zeros, no commits, no head commit, never forced", () => {
    const payload = pushPayload(
      {
        update: { ref: "refs/heads/topic", before: A, after: ZERO_SHA },
        commits: [commit(A)],
        head: commit(A),
        forced: true,
        firstPush: false,
      },
      context,
    );
    assert.equal(payload.after, ZERO_SHA);
    assert.deepEqual([payload.created, payload.deleted, payload.forced], [false, true, false]);
    assert.deepEqual(payload.commits, []);
    assert.equal(payload.head_commit, null);
  });

  test("a created ref is never forced; a forced move says so", () => {
    const created = pushPayload(
      {
        update: { ref: "refs/heads/topic", before: ZERO_SHA, after: A },
        commits: [],
        head: commit(A, false),
        forced: true,
        firstPush: false,
      },
      context,
    );
    assert.deepEqual([created.created, created.deleted, created.forced], [true, false, false]);
    assert.deepEqual(created.commits, []);
    assert.equal((created.head_commit as { distinct: boolean }).distinct, false);
    const forced = pushPayload(
      {
        update: { ref: "refs/heads/main", before: A, after: B },
        commits: [commit(B)],
        head: commit(B),
        forced: true,
        firstPush: false,
      },
      context,
    );
    assert.equal(forced.forced, true);
  });

  test(`at most ${MAX_PUSH_COMMITS} commits, the newest`, () => {
    const many = Array.from({ length: MAX_PUSH_COMMITS + 5 }, (_, i) =>
      commit(i.toString(16).padStart(40, "0")),
    );
    const payload = pushPayload(
      {
        update: { ref: "refs/heads/main", before: A, after: many.at(-1)!.sha },
        commits: many,
        head: many.at(-1)!,
        forced: false,
        firstPush: false,
      },
      context,
    );
    const commits = payload.commits as Array<{ id: string }>;
    assert.equal(commits.length, MAX_PUSH_COMMITS);
    assert.equal(commits[0]!.id, many[5]!.sha);
    assert.equal(commits.at(-1)!.id, many.at(-1)!.sha);
  });
});
