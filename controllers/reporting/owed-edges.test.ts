// What is owed at its edges, one table per decision: the description and state GitHub gets for every phase,
// which announcement an unfinished build is owed, when a build's chats are settled, which records a
// restarted controller resumes, and which build came before. (owed.test.ts has the main rules.)
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Build, BuildPhase, BuildStatus, ChatReport } from "../../api/build.ts";
import { makeBuild, makeRepository } from "../../test/fixtures/reporting.ts";
import {
  githubStateFor,
  interactiveEvent,
  isFinalRecord,
  isInteractive,
  notifyEvent,
  owedAnnouncements,
  previousFinishedBuildOfBranch,
  STALE_AFTER_MS,
  statusDescription,
  unfinishedChats,
} from "./owed.ts";

const time = "2026-11-22T00:00:00Z";

describe("what GitHub is told", () => {
  test("the commit status state of every phase", () => {
    const rows: [BuildPhase | undefined, string | undefined][] = [
      [undefined, undefined],
      ["Queued", undefined],
      ["Pending", "pending"],
      ["Running", "pending"],
      ["Paused", "pending"],
      ["Succeeded", "success"],
      ["Failed", "failure"],
      ["TimedOut", "failure"],
      ["Errored", "error"],
      ["Cancelled", "error"],
    ];
    for (const [phase, state] of rows) assert.equal(githubStateFor(phase), state, phase);
  });

  test("the description of every phase, with and without a duration", () => {
    const failedStep = [
      { name: "install", phase: "Succeeded" as const },
      { name: "test", phase: "Failed" as const, exitCode: 1 },
    ];
    const rows: [string, BuildStatus | undefined, string][] = [
      ["no status", undefined, "Queued"],
      ["queued", { phase: "Queued" }, "Queued"],
      ["pending", { phase: "Pending" }, "Kiln is starting the build"],
      ["running", { phase: "Running", duration: "1m" }, "Kiln is running the build"],
      ["paused", { phase: "Paused" }, "The build is paused"],
      ["passed", { phase: "Succeeded", duration: "3m07s" }, "Passed in 3m07s"],
      ["passed, no duration", { phase: "Succeeded" }, "Passed"],
      [
        "failed at a step",
        { phase: "Failed", duration: "3m07s", steps: failedStep },
        "Failed at step test after 3m07s",
      ],
      ["failed at a step, no duration", { phase: "Failed", steps: failedStep }, "Failed at step test"],
      ["failed, no step", { phase: "Failed", duration: "12s" }, "Failed after 12s"],
      ["failed, nothing known", { phase: "Failed" }, "Failed"],
      ["timed out", { phase: "TimedOut", duration: "1h" }, "Timed out after 1h"],
      ["timed out, no duration", { phase: "TimedOut" }, "Timed out"],
      ["cancelled", { phase: "Cancelled", duration: "5s" }, "Cancelled"],
      [
        "errored",
        { phase: "Errored", message: "the image does not exist" },
        "Errored: the image does not exist",
      ],
      ["errored, no message", { phase: "Errored" }, "Errored"],
    ];
    for (const [what, status, expected] of rows) {
      assert.equal(statusDescription(makeBuild("b", status)), expected, what);
    }
  });

  test("140 characters go as they are; 141 are cut to 139 and an ellipsis", () => {
    const exactly = "x".repeat(140 - "Errored: ".length);
    assert.equal(
      statusDescription(makeBuild("b", { phase: "Errored", message: exactly })),
      `Errored: ${exactly}`,
    );
    const over = statusDescription(makeBuild("b", { phase: "Errored", message: `${exactly}y` }));
    assert.equal(over, `Errored: ${exactly.slice(0, -1)}…`);
    assert.equal(Array.from(over).length, 140);
  });
});

describe("what an unfinished build is owed", () => {
  test("interactive events: a pause (when paused or failures are wanted), a fork waiting in the queue", () => {
    const rows: [string, BuildStatus | undefined, string[], string | undefined][] = [
      ["no status", undefined, ["paused", "failure"], undefined],
      ["paused, paused wanted", { phase: "Paused" }, ["paused"], "paused"],
      ["paused, failure wanted", { phase: "Paused" }, ["failure"], "paused"],
      ["paused, only success wanted", { phase: "Paused" }, ["success"], undefined],
      ["queued for approval", { phase: "Queued", reason: "AwaitingApproval" }, [], "approval"],
      ["queued for a slot", { phase: "Queued", reason: "Waiting" }, ["paused"], undefined],
      ["approved and starting", { phase: "Pending", reason: "AwaitingApproval" }, ["paused"], undefined],
    ];
    for (const [what, status, when, expected] of rows) {
      assert.equal(interactiveEvent(makeBuild("b", status), when), expected, what);
    }
    assert.deepEqual(
      ["paused", "approval", "failure", "recovery", "success"].map((e) => isInteractive(e as never)),
      [true, true, false, false, false],
    );
    const record = (event?: string): ChatReport => ({
      chat: "1",
      state: "Sent",
      time,
      ...(event ? { event } : {}),
    });
    assert.deepEqual(
      [record(), record("failure"), record("paused"), record("approval")].map(isFinalRecord),
      [true, true, false, false],
      "a record without an event (an older controller's) is about the finished build",
    );
  });

  test("a pause is owed per chat by its own record: a chat's other records do not count; blocked chats are skipped", () => {
    const repo = makeRepository(
      { chats: ["1", "2"], when: ["paused"] },
      { generation: 1, blocked: [{ chat: "2", reason: "Forbidden", generation: 1 }] },
    );
    const paused = makeBuild("b", {
      phase: "Paused",
      reported: { chats: [{ chat: "1", event: "approval", state: "Sent", time }] },
    });
    const owed = owedAnnouncements(paused, repo);
    assert.deepEqual(owed.chats, [{ chat: "1", event: "paused" }]);
    assert.deepEqual(owed.skipped, [{ chat: "2", event: "paused", reason: "Forbidden" }]);
    assert.equal(owed.telegramSettled, false, "nothing settles before the build is over");
  });

  test("nothing to post while queued: no commit status at all, not one without a state", () => {
    // The last: a build sent back to the queue (its pod lost) after pending was posted.
    const requeued: BuildStatus = { phase: "Queued", reported: { github: "pending" } };
    for (const status of [undefined, { phase: "Queued" as const }, requeued]) {
      const owed = owedAnnouncements(makeBuild("b", status), makeRepository());
      assert.equal(owed.github, undefined);
      assert.equal(owed.telegramSettled, false);
    }
  });

  test("Repositories whose status has no telegram part, or no blocked chats, block nobody", () => {
    const build = makeBuild("b", { phase: "Failed" });
    for (const status of [{}, { telegram: {} }]) {
      const repo = { ...makeRepository({ chats: ["1"], when: ["failure"] }), status } as never;
      assert.deepEqual(owedAnnouncements(build, repo).chats, [{ chat: "1", event: "failure" }]);
    }
  });
});

describe("when a finished build's chats are settled", () => {
  const repo = makeRepository({ chats: ["1"], when: ["failure"] });
  const failed = (chats: ChatReport[] = []) => makeBuild("b", { phase: "Failed", reported: { chats } });
  test("not while a chat is owed, skipped or still being sent to; an outdated pause does not hold it up", () => {
    const rows: [string, Build, ReturnType<typeof makeRepository>, boolean][] = [
      ["owed, no record yet", failed(), repo, false],
      [
        "a blocked chat still to be recorded Skipped",
        failed(),
        makeRepository(
          { chats: ["1"], when: ["failure"] },
          { generation: 1, blocked: [{ chat: "1", reason: "Forbidden", generation: 1 }] },
        ),
        false,
      ],
      ["still sending", failed([{ chat: "1", event: "failure", state: "Sending", time }]), repo, false],
      ["sent", failed([{ chat: "1", event: "failure", state: "Sent", time }]), repo, true],
      [
        "sent, beside a pause message never sent",
        failed([
          { chat: "1", event: "failure", state: "Sent", time },
          { chat: "1", event: "paused", state: "Queued", time },
        ]),
        repo,
        true,
      ],
    ];
    for (const [what, build, repository, settled] of rows) {
      assert.equal(owedAnnouncements(build, repository).telegramSettled, settled, what);
    }
  });

  test("stale after exactly a day and a moment, not at a day", () => {
    const completed = Date.parse(time);
    const build = makeBuild("b", { phase: "Failed", completionTime: time });
    assert.deepEqual(owedAnnouncements(build, repo, undefined, completed + STALE_AFTER_MS).chats, [
      { chat: "1", event: "failure" },
    ]);
    assert.deepEqual(owedAnnouncements(build, repo, undefined, completed + STALE_AFTER_MS + 1).skipped, [
      { chat: "1", event: "failure", reason: "Stale" },
    ]);
  });
});

test("the records a restarted controller resumes: those neither Sent, Skipped nor Failed", () => {
  const states: ChatReport["state"][] = ["Queued", "Sending", "Sent", "Skipped", "Failed"];
  const build = makeBuild("b", {
    phase: "Failed",
    reported: { chats: states.map((state, i) => ({ chat: String(i), state, time })) },
  });
  assert.deepEqual(
    unfinishedChats(build).map((r) => r.state),
    ["Queued", "Sending"],
  );
  assert.deepEqual(unfinishedChats(makeBuild("b", undefined)), []);
  assert.deepEqual(unfinishedChats(makeBuild("b", { phase: "Failed" })), []);
  assert.deepEqual(unfinishedChats(makeBuild("b", { phase: "Failed", reported: {} })), []);
});

describe("notifyEvent and the build before", () => {
  const at = (second: number) => `2026-11-22T00:00:${String(second).padStart(2, "0")}Z`;
  test("a build without a status, or after one without a status, is no news or plain success", () => {
    assert.equal(notifyEvent(makeBuild("b", undefined)), undefined);
    assert.equal(notifyEvent(makeBuild("b", { phase: "Succeeded" }), makeBuild("a", undefined)), "success");
  });

  test("only this repository's builds, with a status; the newest of them whatever the list's order", () => {
    const build = makeBuild("b5", { phase: "Succeeded" }, { created: at(5) });
    const others = [
      makeBuild("b4", { phase: "Failed" }, { created: at(4) }),
      makeBuild("b2", { phase: "Succeeded" }, { created: at(2) }),
      makeBuild("x4", { phase: "Succeeded" }, { created: at(4), repository: "other" }),
      makeBuild("b3", { phase: "Succeeded" }, { created: at(3) }),
      makeBuild("n3", undefined, { created: at(3) }),
    ];
    assert.equal(previousFinishedBuildOfBranch(build, [...others, build])?.metadata.name, "b4");
    assert.equal(previousFinishedBuildOfBranch(build, [build, ...others].reverse())?.metadata.name, "b4");
    const onlyOther = [makeBuild("x4", { phase: "Failed" }, { created: at(4), repository: "other" })];
    assert.equal(previousFinishedBuildOfBranch(build, onlyOther), undefined);
  });

  test("within one second, the name decides what came before, as everywhere in Kiln", () => {
    const build = makeBuild("b-m", { phase: "Succeeded" }, { created: at(5) });
    const same = (name: string, phase: BuildPhase = "Failed") =>
      makeBuild(name, { phase }, { created: at(5) });
    assert.equal(previousFinishedBuildOfBranch(build, [same("b-a"), build])?.metadata.name, "b-a");
    assert.equal(previousFinishedBuildOfBranch(build, [same("b-z"), build]), undefined, "b-z came after");
    assert.equal(
      previousFinishedBuildOfBranch(build, [same("b-a"), same("b-c"), same("b-b"), build])?.metadata.name,
      "b-c",
    );
    const earlier = makeBuild("b-y", { phase: "Failed" }, { created: at(4) });
    assert.equal(
      previousFinishedBuildOfBranch(build, [earlier, build])?.metadata.name,
      "b-y",
      "a second earlier, the name does not matter",
    );
    assert.equal(previousFinishedBuildOfBranch(build, [same("b-a"), earlier, build])?.metadata.name, "b-a");
    assert.equal(previousFinishedBuildOfBranch(build, [earlier, same("b-a"), build])?.metadata.name, "b-a");
  });
});
