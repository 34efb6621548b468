// The orders queueing.ts decides by, at their edges: equal timestamps, missing fields, builds that may not
// supersede, history kept by completion. (queueing.test.ts has the rules themselves.)
import { describe, test } from "node:test";
import type { Build } from "../../api/build.ts";
import { byAge } from "../../api/build.ts";
import { sampleBuild, sampleRepository } from "../../test/fixtures/build.ts";
import { admit, approvalMessage, beyondHistory, supersededBy } from "./queueing.ts";

const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString();
/** status null: none yet, as a Build just created. */
const build = (
  name: string,
  minute: number | undefined,
  status: Build["status"] | null = { phase: "Queued" },
) => {
  const b = sampleBuild({
    name,
    ...(minute !== undefined ? { created: at(minute) } : {}),
    status: status ?? undefined,
  });
  if (minute === undefined) delete b.metadata.creationTimestamp;
  return b;
};
const names = (builds: readonly Build[]) => builds.map((b) => b.metadata.name);

describe("byAge", () => {
  test("creation time first, then name; a build without a creation time is oldest", (t) => {
    const rows: [a: Build, b: Build, expected: number][] = [
      [build("b", 1), build("a", 2), -1],
      [build("a", 2), build("b", 1), 1],
      [build("a", 1), build("b", 1), -1],
      [build("b", 1), build("a", 1), 1],
      [build("z", undefined), build("a", 1), -1],
      [build("a", 1), build("z", undefined), 1],
      [build("a", undefined), build("b", undefined), -1],
    ];
    for (const [a, b, expected] of rows) {
      t.assert.equal(
        byAge(a, b),
        expected,
        `${a.metadata.name}@${a.metadata.creationTimestamp} vs ${b.metadata.name}`,
      );
    }
    t.assert.deepEqual(
      names([build("c", 2), build("b", 1), build("a", 1), build("d", undefined)].sort(byAge)),
      ["d", "a", "b", "c"],
    );
  });
});

describe("admit: the line at equal creation times", () => {
  test("two builds created in the same second queue by name", (t) => {
    const repo = sampleRepository({ concurrency: 1, cancelSuperseded: false });
    const a = build("a", 1);
    const b = build("b", 1);
    b.spec.revision = { ...b.spec.revision, branch: "other", ref: "refs/heads/other" };
    t.assert.deepEqual(
      admit(a, [a, b], repo, () => false),
      { run: true },
    );
    t.assert.deepEqual(
      admit(b, [a, b], repo, () => false),
      {
        run: false,
        message: "waiting for a slot: 0 of 1 running, 1 queued ahead",
      },
    );
  });
});

describe("supersededBy: who may supersede", () => {
  const repo = sampleRepository({ cancelSuperseded: true });
  test("a build already superseded supersedes nothing; the newest one that may does", (t) => {
    const old = build("old", 1);
    const mid = build("mid", 2);
    const superseded = build("new", 3, { phase: "Running", reason: "Superseded" });
    t.assert.equal(supersededBy(old, [old, mid, superseded], repo)?.metadata.name, "mid");
    t.assert.equal(supersededBy(old, [old, superseded], repo), undefined);
  });
  test("when no build of the branch may supersede, none is superseded", (t) => {
    const cancelled = (name: string, minute: number) => {
      const b = build(name, minute);
      b.spec.cancel = true;
      return b;
    };
    const all = [cancelled("a", 1), cancelled("b", 2)];
    t.assert.equal(supersededBy(all[0]!, all, repo), undefined);
  });
  test("builds with no status yet (just created) supersede and are superseded", (t) => {
    const old = build("old", 1, null);
    const fresh = build("new", 2, null);
    t.assert.equal(old.status, undefined);
    t.assert.equal(supersededBy(old, [old, fresh], repo)?.metadata.name, "new");
    t.assert.equal(supersededBy(fresh, [old, fresh], repo), undefined);
    const queued = build("queued", 0);
    t.assert.equal(supersededBy(queued, [old, queued, fresh], repo)?.metadata.name, "new");
  });
  test("a finished build is superseded by nothing", (t) => {
    const done = build("done", 1, { phase: "Succeeded" });
    t.assert.equal(supersededBy(done, [done, build("new", 2)], repo), undefined);
  });
});

describe("beyondHistory: the newest completions stay", () => {
  const repo = sampleRepository({ history: { keep: 1 } });
  const finished = (name: string, created: number, completed?: number) =>
    build(name, created, {
      phase: "Failed",
      ...(completed !== undefined ? { completionTime: at(completed) } : {}),
    });
  test("by completion time, whatever the creation order", (t) => {
    t.assert.deepEqual(names(beyondHistory([finished("late", 9, 10), finished("early", 1, 20)], repo)), [
      "late",
    ]);
    t.assert.deepEqual(names(beyondHistory([finished("early", 1, 20), finished("late", 9, 10)], repo)), [
      "late",
    ]);
  });
  test("equal completion times: the newer creation stays", (t) => {
    t.assert.deepEqual(names(beyondHistory([finished("a", 1, 5), finished("b", 2, 5)], repo)), ["a"]);
    t.assert.deepEqual(names(beyondHistory([finished("b", 2, 5), finished("a", 1, 5)], repo)), ["a"]);
  });
  test("without a completion time, the creation time stands in; without a status, too", (t) => {
    const errored = finished("errored", 30);
    t.assert.deepEqual(names(beyondHistory([finished("done", 1, 20), errored], repo)), ["done"]);
    t.assert.deepEqual(names(beyondHistory([errored, finished("done", 1, 20)], repo)), ["done"]);
    const statusless = build("statusless", 40, null);
    t.assert.deepEqual(names(beyondHistory([statusless, finished("done", 1, 20)], repo)), ["done"]);
    t.assert.deepEqual(names(beyondHistory([finished("done", 1, 20), statusless], repo)), ["done"]);
  });
});

test("the approval message says how to approve, in the chat and with kubectl", (t) => {
  const fork = sampleBuild({
    name: "pr-7",
    spec: { trigger: { event: "pull_request", pullRequest: { number: 7, fork: true } } },
  });
  t.assert.equal(
    approvalMessage(fork),
    "pull request #7 comes from a fork: it builds once an admin approves it (/approve pr-7 in the chat, or kubectl annotate build pr-7 -n ci kiln.dev/approved-by=<you>)",
  );
});
