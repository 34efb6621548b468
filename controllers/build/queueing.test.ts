import { describe, test } from "node:test";
import type { Build } from "../../api/build.ts";
import { sampleBuild, sampleRepository } from "../../test/fixtures/build.ts";
import { admit, approvalMessage, awaitsApproval, beyondHistory, supersededBy } from "./queueing.ts";

const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString();
const build = (
  name: string,
  minute: number,
  extra: { branch?: string; active?: boolean; cancel?: boolean } = {},
) => {
  const b = sampleBuild({
    name,
    created: at(minute),
    spec: {
      cancel: extra.cancel ?? false,
      revision: {
        sha: "a".repeat(40),
        ref: `refs/heads/${extra.branch ?? "main"}`,
        branch: extra.branch ?? "main",
      },
    },
    status: extra.active ? { phase: "Running", podName: `${name}-pod` } : { phase: "Queued" },
  });
  return b;
};
const isActive = (b: Build) => b.status?.podName !== undefined;

describe("admit (concurrency)", () => {
  const repo = sampleRepository({ concurrency: 2, cancelSuperseded: false });
  test("starts while slots are free", (t) => {
    const a = build("a", 1);
    t.assert.deepEqual(admit(a, [a], repo, isActive), { run: true });
  });
  test("waits when the running builds fill the slots", (t) => {
    const all = [build("r1", 1, { active: true }), build("r2", 2, { active: true }), build("q", 3)];
    const d = admit(all[2]!, all, repo, isActive);
    t.assert.equal(d.run, false);
    t.assert.match(!d.run ? d.message : "", /2 of 2 running/);
  });
  test("a build whose own start is under way (it holds its slot already) is not queued behind itself", (t) => {
    const one = sampleRepository({ concurrency: 1, cancelSuperseded: false });
    const a = build("a", 1);
    t.assert.deepEqual(
      admit(a, [a], one, () => true),
      { run: true },
    );
  });
  test("first come first served among the waiting", (t) => {
    const all = [build("r1", 1, { active: true }), build("q1", 2), build("q2", 3)];
    t.assert.equal(admit(all[1]!, all, repo, isActive).run, true);
    t.assert.equal(admit(all[2]!, all, repo, isActive).run, false);
  });
  test("a cancelled or superseded waiting build does not hold others back", (t) => {
    const r = sampleRepository({ concurrency: 1, cancelSuperseded: true });
    const all = [
      build("old", 1, { branch: "feature" }),
      build("new", 2, { branch: "feature" }),
      build("main", 3),
    ];
    t.assert.equal(admit(all[1]!, all, r, isActive).run, true, "old is superseded, so new goes first");
    const withCancelled = [build("c", 1, { cancel: true }), build("x", 2)];
    t.assert.equal(admit(withCancelled[1]!, withCancelled, r, isActive).run, true);
  });
});

describe("supersededBy", () => {
  const repo = sampleRepository({ cancelSuperseded: true });
  test("a newer build of the same branch supersedes an older one, running or queued", (t) => {
    const all = [
      build("old", 1, { active: true }),
      build("mid", 2),
      build("new", 3),
      build("other", 4, { branch: "dev" }),
    ];
    t.assert.equal(supersededBy(all[0]!, all, repo)?.metadata.name, "new");
    t.assert.equal(supersededBy(all[1]!, all, repo)?.metadata.name, "new");
    t.assert.equal(supersededBy(all[2]!, all, repo), undefined);
    t.assert.equal(supersededBy(all[3]!, all, repo), undefined);
  });
  test("two pushes in the same second: the push chain says which is newer, whatever their names", (t) => {
    const older = build("z-older", 1);
    const newer = build("a-newer", 1);
    newer.spec.revision = { ...newer.spec.revision, sha: "b".repeat(40), before: "a".repeat(40) };
    const all = [older, newer];
    t.assert.equal(supersededBy(older, all, repo)?.metadata.name, "a-newer");
    t.assert.equal(supersededBy(newer, all, repo), undefined, "the older push never cancels the newer");
  });
  test("tag builds (no branch) never supersede each other, nor do they wait behind one another", (t) => {
    const tag = (name: string, minute: number) => {
      const b = build(name, minute);
      b.spec.revision = { sha: "c".repeat(40), ref: `refs/tags/${name}`, tag: name };
      return b;
    };
    const all = [tag("v1", 1), tag("v2", 2)];
    t.assert.equal(supersededBy(all[0]!, all, repo), undefined);
    const one = sampleRepository({ concurrency: 1, cancelSuperseded: true });
    t.assert.equal(admit(all[1]!, all, one, isActive).run, false, "v1 keeps its place in the line");
  });
  test("not when the repository says no, and not by a build cancelled by hand", (t) => {
    const all = [build("old", 1), build("new", 2, { cancel: true })];
    t.assert.equal(supersededBy(all[0]!, all, repo), undefined);
    const off = sampleRepository({ cancelSuperseded: false });
    t.assert.equal(supersededBy(build("a", 1), [build("a", 1), build("b", 2)], off), undefined);
  });
});

describe("beyondHistory", () => {
  test("keeps the newest history.keep finished builds", (t) => {
    const repo = sampleRepository({ history: { keep: 2 } });
    const finished = [1, 2, 3, 4].map((m) => {
      const b = build(`b${m}`, m);
      b.status = { phase: "Succeeded", completionTime: at(10 + m) };
      return b;
    });
    t.assert.deepEqual(
      beyondHistory(finished, repo).map((b) => b.metadata.name),
      ["b2", "b1"],
    );
    t.assert.deepEqual(beyondHistory(finished.slice(0, 2), repo), []);
  });
});

describe("awaitsApproval (pull requests from forks)", () => {
  const fork = (annotations?: Record<string, string>) => {
    const b = sampleBuild({
      name: "pr-7",
      spec: { trigger: { event: "pull_request", pullRequest: { number: 7, fork: true } } },
    });
    if (annotations) b.metadata.annotations = annotations;
    return b;
  };
  test("a fork's build waits for an approval by default; an approval, or the Repository's choice, lets it run", (t) => {
    t.assert.equal(awaitsApproval(fork(), sampleRepository()), true);
    t.assert.equal(
      awaitsApproval(fork({ "kiln.dev/approved-by": "telegram:@ada" }), sampleRepository()),
      false,
    );
    t.assert.equal(awaitsApproval(fork(), sampleRepository({ approveForks: false })), false);
    const own = sampleBuild({
      spec: { trigger: { event: "pull_request", pullRequest: { number: 8, fork: false } } },
    });
    t.assert.equal(awaitsApproval(own, sampleRepository()), false);
    t.assert.match(
      approvalMessage(fork()),
      /\/approve pr-7 in the chat, or kubectl annotate build pr-7 -n ci kiln\.dev\/approved-by=<you>/,
    );
  });
  test("a build waiting for approval holds no place in the line", (t) => {
    const repo = sampleRepository({ concurrency: 1, cancelSuperseded: false });
    const waiting = { ...fork(), metadata: { ...fork().metadata, creationTimestamp: at(1) } };
    const next = build("next", 2);
    t.assert.deepEqual(admit(next, [waiting, next], repo, isActive), { run: true });
  });
});

describe("superseding is per ref", () => {
  test("a fork's pull request from a branch called main does not cancel a push to main, nor the other way", (t) => {
    const repo = sampleRepository({ cancelSuperseded: true });
    const push = build("push", 1);
    const pr = sampleBuild({
      name: "pr",
      created: at(2),
      spec: {
        revision: { sha: "b".repeat(40), ref: "refs/pull/7/head", branch: "main" },
        trigger: { event: "pull_request", pullRequest: { number: 7, fork: true } },
      },
      status: { phase: "Queued" },
    });
    t.assert.equal(supersededBy(push, [push, pr], repo), undefined);
    const later = sampleBuild({
      name: "pr-2",
      created: at(3),
      spec: {
        revision: { sha: "c".repeat(40), ref: "refs/pull/7/head", branch: "main" },
        trigger: { event: "pull_request", pullRequest: { number: 7, fork: true } },
      },
      status: { phase: "Queued" },
    });
    t.assert.equal(
      supersededBy(pr, [push, pr, later], repo)?.metadata.name,
      "pr-2",
      "a newer push to the pull request does",
    );
  });
});

describe("a Build written by hand, without a ref", () => {
  test("is of its branch's ref: a push to the branch supersedes it, and it supersedes an older push", (t) => {
    const repo = sampleRepository({ cancelSuperseded: true });
    const handMade = (name: string, minute: number) => {
      const b = build(name, minute);
      b.spec.revision = { sha: "d".repeat(40), branch: "main" };
      return b;
    };
    const older = build("push-1", 1);
    const mine = handMade("by-hand", 2);
    const newer = build("push-3", 3);
    t.assert.equal(supersededBy(older, [older, mine], repo)?.metadata.name, "by-hand");
    t.assert.equal(supersededBy(mine, [older, mine, newer], repo)?.metadata.name, "push-3");
    const bare = build("bare", 4);
    bare.spec.revision = { sha: "e".repeat(40) };
    t.assert.equal(
      supersededBy(bare, [bare, build("push-5", 5)], repo),
      undefined,
      "a bare commit is of no branch",
    );
  });
});
