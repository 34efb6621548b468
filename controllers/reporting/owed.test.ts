import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BuildPhase, BuildStatus } from "../../api/build.ts";
import { makeBuild, makeRepository } from "../../test/fixtures/reporting.ts";
import { notifyEvent, owedAnnouncements, previousFinishedBuildOfBranch, statusDescription } from "./owed.ts";

const ALL = ["failure", "recovery", "success"] as const;

describe("owedAnnouncements: GitHub commit status, exactly once per transition", () => {
  const cases: { phase?: BuildPhase; posted?: string; want?: string }[] = [
    { phase: undefined, want: undefined },
    { phase: "Queued", want: undefined },
    { phase: "Pending", want: "pending" },
    { phase: "Running", want: "pending" },
    { phase: "Running", posted: "pending", want: undefined },
    { phase: "Paused", posted: "pending", want: undefined },
    { phase: "Succeeded", posted: "pending", want: "success" },
    { phase: "Succeeded", want: "success" }, // finished before pending was posted: skip pending
    { phase: "Succeeded", posted: "success", want: undefined },
    { phase: "Failed", posted: "pending", want: "failure" },
    { phase: "TimedOut", posted: "pending", want: "failure" },
    { phase: "Errored", want: "error" },
    { phase: "Cancelled", posted: "pending", want: "error" },
    { phase: "Running", posted: "success", want: undefined }, // never back to pending
  ];
  for (const c of cases) {
    test(`${c.phase ?? "no phase"} with ${c.posted ?? "nothing"} posted → ${c.want ?? "nothing"}`, () => {
      const status: BuildStatus | undefined = c.phase
        ? { phase: c.phase, ...(c.posted ? { reported: { github: c.posted } } : {}) }
        : undefined;
      const owed = owedAnnouncements(makeBuild("b", status), makeRepository());
      assert.equal(owed.github?.state, c.want);
    });
  }
});

describe("owedAnnouncements: Telegram, one message per finished build per chat, filtered", () => {
  const cases: {
    phase: BuildPhase;
    previous?: BuildPhase;
    when: ("failure" | "recovery" | "success")[];
    want: string | undefined;
  }[] = [
    { phase: "Running", when: [...ALL], want: undefined },
    { phase: "Failed", when: ["failure"], want: "failure" },
    { phase: "TimedOut", when: ["failure"], want: "failure" },
    { phase: "Errored", when: ["failure"], want: "failure" },
    { phase: "Failed", when: ["success", "recovery"], want: undefined },
    { phase: "Succeeded", when: ["failure", "recovery"], want: undefined },
    { phase: "Succeeded", previous: "Succeeded", when: ["failure", "recovery"], want: undefined },
    { phase: "Succeeded", previous: "Failed", when: ["failure", "recovery"], want: "recovery" },
    { phase: "Succeeded", previous: "TimedOut", when: ["recovery"], want: "recovery" },
    { phase: "Succeeded", previous: "Failed", when: ["success"], want: "recovery" },
    { phase: "Succeeded", when: ["success"], want: "success" },
    { phase: "Succeeded", previous: "Failed", when: ["failure"], want: undefined },
    { phase: "Cancelled", when: [...ALL], want: undefined },
  ];
  for (const c of cases) {
    test(`${c.phase} after ${c.previous ?? "nothing"}, on ${c.when.join("+")} → ${c.want ?? "no message"}`, () => {
      const previous = c.previous ? makeBuild("prev", { phase: c.previous }) : undefined;
      const repo = makeRepository({ chats: ["-1001", "42"], when: c.when });
      const owed = owedAnnouncements(makeBuild("b", { phase: c.phase }), repo, previous);
      if (c.want === undefined) assert.deepEqual(owed.chats, []);
      else
        assert.deepEqual(owed.chats, [
          { chat: "-1001", event: c.want },
          { chat: "42", event: c.want },
        ]);
    });
  }

  test("chats that already have a record are not owed again; settled once all records are terminal", () => {
    const repo = makeRepository({ chats: ["1", "2", "3"], when: ["failure"] });
    const time = "2026-11-22T00:00:00Z";
    const build = makeBuild("b", {
      phase: "Failed",
      reported: {
        chats: [
          { chat: "1", state: "Sent", messageID: 5, time },
          { chat: "2", state: "Sending", time },
        ],
      },
    });
    const owed = owedAnnouncements(build, repo);
    assert.deepEqual(owed.chats, [{ chat: "3", event: "failure" }]);
    assert.equal(owed.telegramSettled, false);
    const done = makeBuild("b", {
      phase: "Failed",
      reported: {
        chats: [
          { chat: "1", state: "Sent", time },
          { chat: "2", state: "Failed", reason: "Unauthorized", time },
          { chat: "3", state: "Skipped", reason: "Forbidden", time },
        ],
      },
    });
    assert.equal(owedAnnouncements(done, repo).telegramSettled, true);
    const announced = makeBuild("b", { phase: "Failed", reported: { telegram: "Failed" } });
    assert.deepEqual(owedAnnouncements(announced, repo).chats, []);
    assert.equal(owedAnnouncements(announced, repo).telegramSettled, true);
  });

  test("a blocked chat is skipped until the Repository's spec changes", () => {
    const blocked = [{ chat: "2", reason: "Forbidden", generation: 3 }];
    const build = makeBuild("b", { phase: "Failed" });
    const same = owedAnnouncements(
      build,
      makeRepository({ chats: ["1", "2"], when: ["failure"] }, { generation: 3, blocked }),
    );
    assert.deepEqual(same.chats, [{ chat: "1", event: "failure" }]);
    assert.deepEqual(same.skipped, [{ chat: "2", event: "failure", reason: "Forbidden" }]);
    const edited = owedAnnouncements(
      build,
      makeRepository({ chats: ["1", "2"], when: ["failure"] }, { generation: 4, blocked }),
    );
    assert.equal(edited.chats.length, 2);
  });

  test("a build that finished more than a day ago is skipped as Stale, not announced", () => {
    const repo = makeRepository({ chats: ["1"], when: ["failure"] });
    const build = makeBuild("b", { phase: "Failed", completionTime: "2026-11-20T00:00:00Z" });
    const now = Date.parse("2026-11-22T00:00:00Z");
    assert.deepEqual(owedAnnouncements(build, repo, undefined, now).skipped, [
      { chat: "1", event: "failure", reason: "Stale" },
    ]);
    assert.equal(
      owedAnnouncements(build, repo, undefined, now).github?.state,
      "failure",
      "GitHub is still told",
    );
    const recent = makeBuild("b", { phase: "Failed", completionTime: "2026-11-21T12:00:00Z" });
    assert.equal(owedAnnouncements(recent, repo, undefined, now).chats.length, 1);
  });

  test("no notify configuration or no repository: nothing owed, settled", () => {
    const build = makeBuild("b", { phase: "Failed" });
    assert.deepEqual(owedAnnouncements(build, makeRepository()).chats, []);
    assert.equal(owedAnnouncements(build, undefined).telegramSettled, true);
  });
});

describe("previousFinishedBuildOfBranch", () => {
  test("newest finished, not cancelled, same branch, created before", () => {
    const at = (minute: number) => `2026-11-22T00:${String(minute).padStart(2, "0")}:00Z`;
    const build = makeBuild("b5", { phase: "Succeeded" }, { created: at(5) });
    const builds = [
      makeBuild("b1", { phase: "Failed" }, { created: at(1) }),
      makeBuild("b2", { phase: "Succeeded" }, { created: at(2) }),
      makeBuild("b3", { phase: "Failed" }, { created: at(3) }),
      makeBuild("b4", { phase: "Cancelled" }, { created: at(4) }),
      makeBuild("bx", { phase: "Succeeded" }, { created: at(4), branch: "other" }),
      makeBuild("b6", { phase: "Succeeded" }, { created: at(6) }),
      makeBuild("b4r", { phase: "Running" }, { created: at(4) }),
      build,
    ];
    const previous = previousFinishedBuildOfBranch(build, builds);
    assert.equal(previous?.metadata.name, "b3");
    assert.equal(notifyEvent(build, previous), "recovery");
  });
});

describe("statusDescription", () => {
  test("names the failing step and fits GitHub's 140 characters", () => {
    const failed = makeBuild("b", {
      phase: "Failed",
      duration: "3m07s",
      steps: [
        { name: "install", phase: "Succeeded" },
        { name: "test", phase: "Failed", exitCode: 1 },
      ],
    });
    assert.equal(statusDescription(failed), "Failed at step test after 3m07s");
    const long = statusDescription(makeBuild("b", { phase: "Errored", message: "x".repeat(500) }));
    assert.equal(Array.from(long).length, 140);
    assert.equal(statusDescription(makeBuild("b", { phase: "Running" })), "Kiln is running the build");
  });
});

describe("owedAnnouncements: interactive messages (a paused build, a fork waiting for approval)", () => {
  const repo = makeRepository({ chats: ["1", "2"], when: ["failure"] });

  test("a paused build is owed a paused message per chat (with failure wanted), once", () => {
    const paused = makeBuild("b", { phase: "Paused" });
    assert.deepEqual(owedAnnouncements(paused, repo).chats, [
      { chat: "1", event: "paused" },
      { chat: "2", event: "paused" },
    ]);
    const recorded = makeBuild("b", {
      phase: "Paused",
      reported: { chats: [{ chat: "1", event: "paused", state: "Sent", time: "t" }] },
    });
    assert.deepEqual(owedAnnouncements(recorded, repo).chats, [{ chat: "2", event: "paused" }]);
    assert.deepEqual(
      owedAnnouncements(paused, makeRepository({ chats: ["1"], when: ["success"] })).chats,
      [],
    );
    assert.deepEqual(owedAnnouncements(paused, makeRepository({ chats: ["1"], when: ["paused"] })).chats, [
      { chat: "1", event: "paused" },
    ]);
  });

  test("a fork's build waiting for approval is owed an approval message whatever `when` says", () => {
    const waiting = makeBuild("b", { phase: "Queued", reason: "AwaitingApproval" });
    assert.deepEqual(owedAnnouncements(waiting, makeRepository({ chats: ["1"], when: ["success"] })).chats, [
      { chat: "1", event: "approval" },
    ]);
    assert.deepEqual(owedAnnouncements(makeBuild("b", { phase: "Queued" }), repo).chats, []);
  });

  test("the final message is owed beside a paused one; a pause message still owed when it is over is outdated", () => {
    const failed = makeBuild("b", {
      phase: "Failed",
      completionTime: new Date().toISOString(),
      reported: {
        chats: [
          { chat: "1", event: "paused", state: "Sent", time: "t" },
          { chat: "2", event: "paused", state: "Queued", time: "t" },
        ],
      },
    });
    const owed = owedAnnouncements(failed, repo, undefined, Date.now());
    assert.deepEqual(owed.chats, [
      { chat: "1", event: "failure" },
      { chat: "2", event: "failure" },
    ]);
    assert.deepEqual(
      owed.outdated?.map((r) => r.chat),
      ["2"],
    );
  });
});
