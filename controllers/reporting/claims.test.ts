import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { makeBuild, makeRepository } from "../../test/fixtures/reporting.ts";
import { blockedChatsAfter, chatDelayed, chatOutcome, claimFor, postingFor } from "./claims.ts";
import { owedAnnouncements } from "./owed.ts";

const NOW = "2026-11-22T00:05:00Z";
const failure = {
  state: "failure",
  description: "Failed",
  context: "kiln",
  targetURL: "https://k/b",
} as const;

describe("claimFor", () => {
  test("a finished build: GitHub intent, Queued and Skipped chat records, in one patch", () => {
    const repo = makeRepository(
      { chats: ["1", "2"], when: ["failure"] },
      { blocked: [{ chat: "2", reason: "Forbidden", generation: 1 }] },
    );
    const build = makeBuild("b", { phase: "Failed", reported: { github: "pending" } });
    const claim = claimFor(build, owedAnnouncements(build, repo), failure, true, NOW);
    assert.deepEqual(claim, {
      resuming: false,
      patch: {
        githubIntent: { state: "failure", description: "Failed", targetURL: "https://k/b", time: NOW },
        chats: [
          { chat: "1", event: "failure", state: "Queued", time: NOW },
          { chat: "2", event: "failure", state: "Skipped", reason: "Forbidden", time: NOW },
        ],
      },
    });
  });

  test("the same intent recorded: resuming, nothing written; without a bot chats are left alone", () => {
    const repo = makeRepository({ chats: ["1"], when: ["failure"] });
    const build = makeBuild("b", {
      phase: "Failed",
      reported: { githubIntent: { state: "failure", description: "Old words", time: NOW } },
    });
    assert.deepEqual(claimFor(build, owedAnnouncements(build, repo), failure, false, NOW), {
      resuming: true,
    });
    assert.deepEqual(postingFor(build, failure), {
      context: "kiln",
      state: "failure",
      description: "Old words",
    });
  });

  test("all chats settled: the phase is recorded once", () => {
    const repo = makeRepository({ chats: ["1"], when: ["failure"] });
    const build = makeBuild("b", {
      phase: "Failed",
      reported: { github: "failure", chats: [{ chat: "1", state: "Sent", time: NOW }] },
    });
    assert.deepEqual(claimFor(build, owedAnnouncements(build, repo), undefined, true, NOW).patch, {
      telegram: "Failed",
    });
  });
});

describe("chatOutcome and blockedChatsAfter", () => {
  test("outcomes become records, and a settled record keeps no delay", () => {
    const record = (o: object) => JSON.parse(JSON.stringify(o));
    assert.deepEqual(record(chatOutcome({ kind: "sent", messageID: 7 }, true)), {
      state: "Sent",
      messageID: 7,
      digest: true,
    });
    assert.deepEqual(record(chatOutcome({ kind: "blocked", reason: "Forbidden", message: "x" }, false)), {
      state: "Skipped",
      reason: "Forbidden",
    });
    assert.deepEqual(record(chatOutcome({ kind: "failed", reason: "Unauthorized", message: "x" }, false)), {
      state: "Failed",
      reason: "Unauthorized",
    });
    assert.deepEqual(record(chatOutcome({ kind: "stale", reason: "Stale", message: "x" }, false)), {
      state: "Skipped",
      reason: "Stale",
    });
    // Spread over a delayed record (as markChats does), the delay fields are gone once written.
    const delayed = {
      chat: "1",
      state: "Queued",
      attempts: 3,
      lastAnswer: "ServerError",
      retryAt: "t",
      time: "t",
    };
    assert.deepEqual(record({ ...delayed, ...chatOutcome({ kind: "sent", messageID: 1 }, false) }), {
      chat: "1",
      state: "Sent",
      attempts: 3,
      messageID: 1,
      time: "t",
    });
    assert.deepEqual(
      chatDelayed({ answer: "ServerError: 500", failures: 2, retryAt: Date.parse("2026-01-01T00:00:04Z") }),
      {
        state: "Queued",
        attempts: 2,
        lastAnswer: "ServerError: 500",
        retryAt: "2026-01-01T00:00:04.000Z",
      },
    );
  });

  test("listing, relisting after a spec change, unlisting", () => {
    const repo = makeRepository({ chats: ["1"], when: ["failure"] }, { generation: 3 });
    const listed = blockedChatsAfter(repo, "1", { reason: "Forbidden", message: "blocked" }, NOW);
    assert.deepEqual(listed, [
      { chat: "1", reason: "Forbidden", message: "blocked", since: NOW, generation: 3 },
    ]);
    const same = makeRepository(
      { chats: ["1"], when: ["failure"] },
      { generation: 3, blocked: [{ chat: "1", reason: "Forbidden", generation: 3 }] },
    );
    assert.equal(blockedChatsAfter(same, "1", { reason: "Forbidden", message: "blocked" }, NOW), undefined);
    const edited = makeRepository(
      { chats: ["1"], when: ["failure"] },
      { generation: 4, blocked: [{ chat: "1", reason: "Forbidden", generation: 3 }] },
    );
    assert.equal(
      blockedChatsAfter(edited, "1", { reason: "Forbidden", message: "again" }, NOW)?.[0]?.generation,
      4,
    );
    assert.deepEqual(blockedChatsAfter(edited, "1", undefined, NOW), []);
    assert.equal(blockedChatsAfter(repo, "1", undefined, NOW), undefined);
  });
});
