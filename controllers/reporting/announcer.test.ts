import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { Telegram } from "telegraf";
import type { Build } from "../../api/build.ts";
import { silentLogger } from "../../lib/log.ts";
import { type Clock, systemClock } from "../../lib/runtime/clock.ts";
import { FakeGitHub } from "../../stand-ins/github/index.ts";
import { FakeTelegram } from "../../stand-ins/telegram/server.ts";
import { MemoryKube } from "../../test/fakes/memory-kube.ts";
import { makeBuild, makeRepository } from "../../test/fixtures/reporting.ts";
import { waitFor } from "../../test/wait-for.ts";
import { Announcer } from "./announcer.ts";
import { createGitHubStatuses } from "./github-status.ts";
import { TelegramSender } from "./telegram.ts";

const PRIVATE = 42;
// Real timers, but "now" a few minutes after the fixtures' times, whatever day the tests run.
const started = Date.now();
const clock: Clock = {
  now: () => Date.parse("2026-11-22T00:10:00Z") + Date.now() - started,
  after: systemClock.after,
};
const GROUP = -1001;

interface World {
  telegram: FakeTelegram;
  github: FakeGitHub;
  api: MemoryKube;
  sha: string;
  announcers: Announcer[];
  announcer(options?: { backoffMs?: number; telegram?: boolean }): Announcer;
  statuses(): { state: string; description: string | null }[];
  finish(name: string, phase: "Failed" | "Succeeded", extra?: Partial<NonNullable<Build["status"]>>): void;
}

let world: World;

beforeEach(async () => {
  const telegram = await FakeTelegram.start({
    chats: [
      { id: PRIVATE, type: "private", first_name: "Ada" },
      { id: GROUP, type: "supergroup", title: "CI" },
    ],
  });
  const github = await FakeGitHub.start();
  github.addToken("ghp_kiln", { login: "kiln-bot" });
  const repo = github.addRepository("acme", "api");
  const sha = repo.branches.get("main")!;
  const api = new MemoryKube();
  api.secrets.set("default/github", { token: "ghp_kiln\n" });
  const repository = makeRepository({
    chats: [String(PRIVATE), String(GROUP)],
    when: ["failure", "recovery"],
  });
  repository.spec.github.apiURL = github.url;
  repository.spec.tokenSecretRef = { name: "github", key: "token" };
  api.put(repository);
  const statuses = createGitHubStatuses({ log: silentLogger(), writeSpacingMs: 0, retryAfterBaseValue: 10 });
  world = {
    telegram,
    github,
    api,
    sha,
    announcers: [],
    announcer(options = {}) {
      const announcer = new Announcer({
        api,
        github: statuses,
        ...(options.telegram === false
          ? {}
          : { sender: new TelegramSender(new Telegram(telegram.token, { apiRoot: telegram.apiRoot })) }),
        clock,
        log: silentLogger(),
        config: { publicURL: "https://kiln.example" },
        queue: { retry: { baseMs: options.backoffMs ?? 50 } },
      });
      this.announcers.push(announcer);
      return announcer;
    },
    statuses: () => github.statuses("acme", "api", sha).filter((s) => s.context === "kiln"),
    finish(name, phase, extra = {}) {
      api.setPhase(name, {
        phase,
        startTime: "2026-11-22T00:00:00Z",
        completionTime: "2026-11-22T00:03:07Z",
        ...(phase === "Failed"
          ? { steps: [{ name: "test", phase: "Failed", exitCode: 1 }] }
          : { steps: [{ name: "test", phase: "Succeeded", exitCode: 0 }] }),
        ...extra,
      });
    },
  };
});

afterEach(async () => {
  await Promise.all(world.announcers.map((a) => a.close()));
  world.github.assertNoDrift();
  await world.telegram.stop();
  await world.github.stop();
});

function putBuild(name: string, status: Build["status"], created = "2026-11-22T00:00:00Z") {
  const build = makeBuild(name, status, { created });
  build.spec.revision.sha = world.sha;
  return world.api.put(build);
}

const key = (name: string) => ({ namespace: "default", name });

describe("Announcer", () => {
  test("pending once, then one final status and one message per chat, however often reconciled", async () => {
    const announcer = world.announcer();
    putBuild("b1", { phase: "Pending" });
    await announcer.reconcile(key("b1"));
    world.api.setPhase("b1", { phase: "Running" });
    await announcer.reconcile(key("b1"));
    await announcer.reconcile(key("b1"));
    assert.deepEqual(
      world.statuses().map((s) => s.state),
      ["pending"],
    );
    world.finish("b1", "Failed");
    await announcer.reconcile(key("b1"));
    await announcer.reconcile(key("b1"));
    await world.telegram.waitForMessages(2);
    await waitFor("chat records settled", () =>
      world.api.build("b1").status?.reported?.chats?.every((c) => c.state === "Sent"),
    );
    await announcer.reconcile(key("b1")); // settles reported.telegram
    await announcer.reconcile(key("b1"));
    assert.deepEqual(
      world.statuses().map((s) => [s.state, s.description]),
      [
        ["pending", "Kiln is starting the build"],
        ["failure", "Failed at step test after 3m07s"],
      ],
    );
    assert.equal(
      world.github.statuses("acme", "api", world.sha).at(-1)?.target_url,
      "https://kiln.example/builds/default/b1",
    );
    assert.equal(world.telegram.messagesTo(PRIVATE).length, 1);
    assert.equal(world.telegram.messagesTo(GROUP).length, 1);
    const text = world.telegram.messagesTo(PRIVATE)[0]!.text;
    assert.match(text, /❌ Failed: acme\/api main\n0123456|❌ Failed: acme\/api main\n[0-9a-f]{7}/);
    assert.match(text, /Step test failed \(exit 1\), after 3m07s/);
    const reported = world.api.build("b1").status?.reported;
    assert.equal(reported?.github, "failure");
    assert.equal(reported?.githubIntent, undefined);
    assert.equal(reported?.telegram, "Failed");
  });

  test("restart after the intent was recorded, before anything was said: said exactly once", async () => {
    putBuild("b1", {
      phase: "Failed",
      reported: {
        github: "pending",
        githubIntent: { state: "failure", description: "Failed", time: "2026-11-22T00:00:00Z" },
        chats: [{ chat: String(PRIVATE), event: "failure", state: "Queued", time: "2026-11-22T00:00:00Z" }],
      },
    });
    const restarted = world.announcer();
    await restarted.reconcile(key("b1"));
    await restarted.reconcile(key("b1"));
    await world.telegram.waitForMessages(2);
    await waitFor("settled", () =>
      world.api.build("b1").status?.reported?.chats?.every((c) => c.state === "Sent"),
    );
    assert.equal(world.telegram.messagesTo(PRIVATE).length, 1);
    assert.equal(world.telegram.messagesTo(GROUP).length, 1, "the chat without a record is owed too");
    assert.deepEqual(
      world.statuses().map((s) => [s.state, s.description]),
      [["failure", "Failed"]],
      "the recorded description is the one posted",
    );
  });

  test("restart after GitHub got the status but before it was recorded: not posted again", async () => {
    putBuild("b1", {
      phase: "Failed",
      reported: {
        github: "pending",
        githubIntent: {
          state: "failure",
          description: "Failed at step test",
          targetURL: "https://kiln.example/builds/default/b1",
          time: "2026-11-22T00:00:00Z",
        },
        telegram: "Failed",
      },
    });
    // What the process did before it died:
    await fetch(`${world.github.url}/repos/acme/api/statuses/${world.sha}`, {
      method: "POST",
      headers: { authorization: "token ghp_kiln", "content-type": "application/json" },
      body: JSON.stringify({
        state: "failure",
        description: "Failed at step test",
        target_url: "https://kiln.example/builds/default/b1",
        context: "kiln",
      }),
    });
    await world.announcer().reconcile(key("b1"));
    assert.equal(world.statuses().length, 1);
    assert.equal(world.api.build("b1").status?.reported?.github, "failure");
    assert.equal(world.api.build("b1").status?.reported?.githubIntent, undefined);
  });

  test("a real stop while Telegram is failing, then a new process: one message, one final status", async () => {
    world.telegram.injectError("sendMessage", { error_code: 502, times: 2 });
    putBuild("b1", { phase: "Running", reported: { github: "pending" } });
    world.finish("b1", "Failed");
    const first = world.announcer({ backoffMs: 60_000 });
    await first.reconcile(key("b1"));
    await waitFor(
      "both chats tried",
      () => world.telegram.calls.filter((c) => c.method === "sendMessage").length >= 2,
    );
    await first.close();
    assert.equal(world.telegram.sent.length, 0);
    const second = world.announcer();
    await second.reconcile(key("b1"));
    await world.telegram.waitForMessages(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(world.telegram.messagesTo(PRIVATE).length, 1);
    assert.equal(world.telegram.messagesTo(GROUP).length, 1);
    assert.deepEqual(
      world.statuses().map((s) => s.state),
      ["failure"],
    );
  });

  test("a chat left Sending by a dead process is sent again (at least once inside that window)", async () => {
    putBuild("b1", {
      phase: "Failed",
      reported: {
        github: "failure",
        chats: [
          { chat: String(PRIVATE), event: "failure", state: "Sending", time: "2026-11-22T00:00:00Z" },
          {
            chat: String(GROUP),
            event: "failure",
            state: "Sent",
            messageID: 9,
            time: "2026-11-22T00:00:00Z",
          },
        ],
      },
    });
    await world.announcer().reconcile(key("b1"));
    await world.telegram.waitForMessages(1);
    await waitFor("sent", () =>
      world.api.build("b1").status?.reported?.chats?.every((c) => c.state === "Sent"),
    );
    assert.equal(world.telegram.messagesTo(PRIVATE).length, 1);
    assert.equal(world.telegram.messagesTo(GROUP).length, 0);
  });

  test("the API down when the outcome is written: recorded later, not sent again meanwhile", async () => {
    putBuild("b1", { phase: "Failed", reported: { github: "failure" } });
    const announcer = new Announcer({
      api: world.api,
      github: createGitHubStatuses({ log: silentLogger(), writeSpacingMs: 0 }),
      sender: {
        send: async (chat, message) => {
          const outcome = await new TelegramSender(
            new Telegram(world.telegram.token, { apiRoot: world.telegram.apiRoot }),
          ).send(chat, message);
          world.api.failWrites = 1; // the API server goes away right after the message went out
          return outcome;
        },
      },
      clock,
      log: silentLogger(),
      queue: { retry: { baseMs: 20 } },
    });
    world.announcers.push(announcer);
    const repository = world.api.repository("api");
    repository.spec.notify = { telegram: { chats: [String(PRIVATE)], when: ["failure"] } };
    world.api.put(repository);
    await announcer.reconcile(key("b1"));
    await world.telegram.waitForMessages(1, { chat: PRIVATE });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(world.api.build("b1").status?.reported?.chats?.[0]?.state, "Sending");
    await announcer.reconcile(key("b1")); // e.g. the periodic resync
    await waitFor("recorded", () => world.api.build("b1").status?.reported?.chats?.[0]?.state === "Sent");
    assert.equal(world.telegram.messagesTo(PRIVATE).length, 1);
  });

  test("429 retry_after is honoured", async () => {
    world.telegram.injectError("sendMessage", { error_code: 429, retry_after: 1, chat: PRIVATE });
    putBuild("b1", { phase: "Failed", reported: { github: "failure" } });
    const started = Date.now();
    await world.announcer().reconcile(key("b1"));
    await world.telegram.waitForMessages(1, { chat: PRIVATE, timeoutMs: 5000 });
    assert.ok(Date.now() - started >= 1000, "waited retry_after before sending again");
    assert.equal(
      world.telegram.calls.filter((c) => c.method === "sendMessage" && c.params.chat_id === String(PRIVATE))
        .length,
      2,
    );
    assert.equal(world.telegram.messagesTo(PRIVATE).length, 1);
  });

  test("403 stops sending to that chat and says so in the Repository status", async () => {
    world.telegram.block(GROUP);
    putBuild("b1", { phase: "Failed", reported: { github: "failure" } });
    const announcer = world.announcer();
    await announcer.reconcile(key("b1"));
    const blocked = await waitFor(
      "repository status",
      () => world.api.repository("api").status?.telegram?.blockedChats,
    );
    assert.deepEqual(
      blocked.map((b) => [b.chat, b.reason, b.message]),
      [[String(GROUP), "Forbidden", "Forbidden: bot was kicked from the group chat"]],
    );
    await waitFor(
      "records",
      () =>
        world.api.build("b1").status?.reported?.chats?.length === 2 &&
        world.api
          .build("b1")
          .status?.reported?.chats?.every((c) => c.state !== "Queued" && c.state !== "Sending"),
    );
    assert.deepEqual(
      world.api.build("b1").status?.reported?.chats?.map((c) => [c.chat, c.state, c.reason]),
      [
        [String(PRIVATE), "Sent", undefined],
        [String(GROUP), "Skipped", "Forbidden"],
      ],
    );
    const callsBefore = world.telegram.calls.length;
    putBuild("b2", { phase: "Failed", reported: { github: "failure" } }, "2026-11-22T00:05:00Z");
    await announcer.reconcile(key("b2"));
    await world.telegram.waitForMessages(2, { chat: PRIVATE });
    assert.equal(
      world.telegram.calls.slice(callsBefore).filter((c) => c.params.chat_id === String(GROUP)).length,
      0,
      "the blocked chat is not tried again",
    );
    assert.deepEqual(
      world.api.build("b2").status?.reported?.chats?.find((c) => c.chat === String(GROUP))?.state,
      "Skipped",
    );
  });

  test("after a spec change a blocked chat is tried again, and cleared from the status once it works", async () => {
    const repository = world.api.repository("api");
    repository.metadata.generation = 2;
    repository.status = {
      telegram: {
        blockedChats: [
          { chat: String(GROUP), reason: "Forbidden", since: "2026-11-22T00:00:00Z", generation: 1 },
        ],
      },
    };
    world.api.put(repository);
    putBuild("b1", { phase: "Failed", reported: { github: "failure" } });
    await world.announcer().reconcile(key("b1"));
    await world.telegram.waitForMessages(1, { chat: GROUP });
    await waitFor("cleared", () => world.api.repository("api").status?.telegram?.blockedChats?.length === 0);
  });

  test("a recovery is announced; a plain success is not (when: failure, recovery)", async () => {
    putBuild(
      "b1",
      { phase: "Failed", reported: { github: "failure", telegram: "Failed" } },
      "2026-11-22T00:01:00Z",
    );
    putBuild("b2", { phase: "Succeeded", reported: { github: "success" } }, "2026-11-22T00:02:00Z");
    putBuild("b3", { phase: "Succeeded", reported: { github: "success" } }, "2026-11-22T00:03:00Z");
    const announcer = world.announcer();
    await announcer.reconcile(key("b2"));
    await announcer.reconcile(key("b3"));
    await world.telegram.waitForMessages(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(world.telegram.sent.length, 2);
    assert.match(world.telegram.sent[0]!.text, /^✅ Fixed: acme\/api main/);
    assert.equal(world.api.build("b3").status?.reported?.telegram, "Succeeded");
  });

  test("Telegram down and GitHub rate limited: reconcile still completes and the status is posted", async () => {
    world.telegram.injectError("sendMessage", { error_code: 401, times: 10 });
    world.github.failNext({ method: "POST", path: "/statuses/", status: 403, retryAfter: 1 });
    putBuild("b1", { phase: "Running" });
    world.finish("b1", "Failed");
    await world.announcer().reconcile(key("b1"));
    assert.deepEqual(
      world.statuses().map((s) => s.state),
      ["failure"],
    );
    assert.equal(world.github.requestsTo("POST", "/repos/{owner}/{repo}/statuses/{sha}").length, 2);
    await waitFor("failed records", () =>
      world.api
        .build("b1")
        .status?.reported?.chats?.every((c) => c.state === "Failed" && c.reason === "Unauthorized"),
    );
  });

  test("a bad GitHub token is a terminal error; the intent stays for the next resync", async () => {
    world.api.secrets.set("default/github", { token: "ghp_wrong" });
    putBuild("b1", { phase: "Failed", reported: { telegram: "Failed" } });
    await assert.rejects(world.announcer().reconcile(key("b1")), (err: Error) => {
      assert.equal(err.name, "TerminalError");
      assert.equal((err as Error & { reason: string }).reason, "GitHubUnauthorized");
      return true;
    });
    assert.equal(world.api.build("b1").status?.reported?.githubIntent?.state, "failure");
    assert.equal(world.statuses().length, 0);
  });

  test("a burst for one chat becomes one digest; every build records it", async () => {
    world.telegram.injectError("sendMessage", { error_code: 429, retry_after: 1, chat: PRIVATE });
    const announcer = world.announcer();
    putBuild("b0", { phase: "Failed", reported: { github: "failure" } }, "2026-11-22T00:00:00Z");
    await announcer.reconcile(key("b0"));
    await waitFor("first attempt", () =>
      world.telegram.calls.some((c) => c.params.chat_id === String(PRIVATE)),
    );
    for (let i = 1; i <= 5; i++) {
      putBuild(`b${i}`, { phase: "Failed", reported: { github: "failure" } }, `2026-11-22T00:0${i}:00Z`);
      await announcer.reconcile(key(`b${i}`));
    }
    const [digest] = await world.telegram.waitForMessages(1, { chat: PRIVATE, timeoutMs: 5000 });
    assert.match(digest!.text, /^🧾 6 builds finished\n/);
    await waitFor("all recorded", () =>
      [0, 1, 2, 3, 4, 5].every((i) =>
        world.api
          .build(`b${i}`)
          .status?.reported?.chats?.some((c) => c.chat === String(PRIVATE) && c.state === "Sent" && c.digest),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(world.telegram.messagesTo(PRIVATE).length, 1);
  });

  test("a paused build gets a message with the exec line and buttons; the final one comes after it", async () => {
    const announcer = world.announcer();
    putBuild("b1", {
      phase: "Paused",
      podName: "b1-pod",
      steps: [{ name: "test", phase: "Paused", exitCode: 1 }],
      reported: { github: "pending" },
    });
    await announcer.reconcile(key("b1"));
    const [paused] = await world.telegram.waitForMessages(1, { chat: GROUP, timeoutMs: 10_000 });
    assert.match(paused!.text, /⏸ Paused: acme\/api main/);
    assert.match(paused!.text, /kubectl exec -it b1-pod -c build -n default -- sh/);
    assert.deepEqual(
      paused!.reply_markup?.inline_keyboard.flat().map((b) => b.callback_data),
      ["release:uid-b1", "cancel:uid-b1"],
    );
    await waitFor(
      "the paused records",
      () =>
        world.api
          .build("b1")
          .status?.reported?.chats?.filter((c) => c.event === "paused" && c.state === "Sent").length === 2,
    );
    world.finish("b1", "Failed");
    await announcer.reconcile(key("b1"));
    await world.telegram.waitForMessages(2, { chat: GROUP, timeoutMs: 10_000 });
    const messages = world.telegram.messagesTo(GROUP);
    assert.match(messages[1]!.text, /^❌ Failed: acme\/api/);
    assert.equal(messages[1]!.reply_markup, undefined, "a final message has no buttons");
    await waitFor("settled", async () => {
      // The controller reconciles again on every record it writes; here the test does.
      await announcer.reconcile(key("b1"));
      return world.api.build("b1").status?.reported?.telegram === "Failed";
    });
    assert.equal(world.telegram.messagesTo(GROUP).length, 2, "nothing twice");
  });

  test("without a bot token only GitHub is told; Telegram records are left alone", async () => {
    putBuild("b1", { phase: "Failed" });
    await world.announcer({ telegram: false }).reconcile(key("b1"));
    assert.equal(world.api.build("b1").status?.reported?.chats, undefined);
    assert.equal(world.api.build("b1").status?.reported?.github, "failure");
  });
});
