import assert from "node:assert/strict";
import net from "node:net";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, test } from "node:test";
import { Telegram } from "telegraf";
import { silentLogger } from "../../lib/log.ts";
import { StoreClient } from "../../lib/store-client.ts";
import { FakeTelegram } from "../../stand-ins/telegram/server.ts";
import { MemoryKube } from "../../test/fakes/memory-kube.ts";
import { makeBuild, makeRepository } from "../../test/fixtures/reporting.ts";
import { KilnBot } from "./bot.ts";
import { formatLogTail } from "./commands.ts";
import { formatAnnouncement } from "./format.ts";
import { TelegramSender } from "./telegram.ts";

let telegram: FakeTelegram;
let api: MemoryKube;
let bot: KilnBot;

beforeEach(async () => {
  telegram = await FakeTelegram.start({
    chats: [
      { id: 42, type: "private", first_name: "Ada" },
      { id: -1001, type: "supergroup", title: "CI" },
      { id: 555, type: "private", first_name: "Stranger" },
      { id: 99, type: "private", first_name: "Other team" },
    ],
  });
  api = new MemoryKube();
  // Ada (42, by id) and @grace (by username) are admins; Bob (7) is in the group but not.
  api.put(makeRepository({ chats: ["42", "-1001"], when: ["failure"], admins: ["42", "@Grace"] }));
  const secret = makeRepository({ chats: ["99"], when: ["failure"] });
  secret.metadata.name = "secret";
  secret.spec.github.name = "secret";
  api.put(secret);
  api.put({
    ...makeBuild(
      "api-1",
      {
        phase: "Failed",
        podName: "api-1-pod",
        duration: "1m02s",
        steps: [{ name: "test", phase: "Failed", exitCode: 1 }],
      },
      { created: "2026-11-22T00:01:00Z" },
    ),
  });
  api.put(
    makeBuild(
      "api-2",
      { phase: "Running" },
      { created: "2026-11-22T00:02:00Z", message: "<b>bold</b> & co" },
    ),
  );
  api.put(makeBuild("secret-1", { phase: "Succeeded" }, { repository: "secret" }));
  api.logs.set(
    "default/api-1-pod/build",
    Array.from({ length: 120 }, (_, i) => `line ${i} <script>&</script>`).join("\n"),
  );
  bot = new KilnBot({
    token: telegram.token,
    apiRoot: telegram.apiRoot,
    api,
    log: silentLogger(),
    newName: () => "api-1-again",
  });
  await bot.start();
});

afterEach(async () => {
  await bot.stop();
  await telegram.stop();
});

async function ask(
  chat: number,
  text: string,
  from: { id: number; username?: string } = { id: 42 },
): Promise<string> {
  const before = telegram.messagesTo(chat).length;
  telegram.userSays(chat, text, from);
  const messages = await telegram.waitForMessages(before + 1, { chat, timeoutMs: 5000 });
  return messages.at(-1)!.text;
}

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("Telegram bot commands", () => {
  test("registers its commands", () => {
    assert.deepEqual(
      (telegram.commands as { command: string }[]).map((c) => c.command),
      ["builds", "log", "rerun", "cancel", "hold", "release", "approve", "help"],
    );
  });

  test("/builds lists a repository's recent builds, newest first, escaped", async () => {
    const reply = await ask(42, "/builds api");
    const lines = reply.split("\n");
    assert.equal(lines[0], "acme/api: latest builds");
    assert.match(lines[1]!, /^🔄 api-2 main 0123456 Running <b>bold<\/b> & co$/);
    assert.match(lines[2]!, /^❌ api-1 main 0123456 Failed at test \(1m02s\) Fix the flaky test$/);
    assert.match(await ask(-1001, "/builds@kiln_test_bot acme/api"), /^acme\/api: latest builds/);
  });

  test("a chat may only ask about repositories that announce to it", async () => {
    assert.match(await ask(42, "/builds secret"), /^Usage: \/builds <repository>, one of api$/);
    assert.match(await ask(42, "/log secret-1"), /^Usage: \/log <build>/);
    telegram.userSays(555, "/builds api");
    telegram.userSays(555, "/rerun api-1");
    await ask(42, "/help"); // the bot has handled the stranger's updates by now
    assert.equal(telegram.messagesTo(555).length, 0, "strangers get no answer");
    assert.equal(await api.getBuild("default", "api-1-again"), undefined);
  });

  test("/rerun by an admin creates a new Build of the same commit; anyone else is refused, politely", async () => {
    const refused = await ask(-1001, "/rerun api-1", { id: 7, username: "bob" });
    assert.equal(
      refused,
      "Sorry @bob, only the admins of acme/api may /rerun its builds (spec.notify.telegram.admins).",
    );
    assert.equal(await api.getBuild("default", "api-1-again"), undefined);
    const reply = await ask(42, "/rerun api-1");
    assert.equal(reply, "Started api-1-again, a rerun of api-1.");
    const created = api.build("api-1-again");
    assert.deepEqual(created.spec.revision, api.build("api-1").spec.revision);
    assert.deepEqual(created.spec.trigger, { event: "manual" });
    assert.equal(created.metadata.annotations?.["kiln.dev/requested-by"], "telegram:42");
    assert.match(await ask(42, "/rebuild"), /^Usage: \/rebuild <build>/, "the old name still works");
  });

  test("a rerun of a fork's pull request stays a fork's (no secrets), approved by the admin who asked", async () => {
    const fork = makeBuild("api-pr", { phase: "Failed" });
    fork.spec.trigger = { event: "pull_request", pullRequest: { number: 7, fork: true } };
    api.put(fork);
    await ask(-1001, "/rerun api-pr", { id: 99, username: "grace" });
    const created = api.build("api-1-again");
    assert.deepEqual(created.spec.trigger, { event: "manual", pullRequest: { number: 7, fork: true } });
    assert.equal(created.metadata.annotations?.["kiln.dev/approved-by"], "telegram:@grace");
  });

  test("/cancel, /hold, /release and /approve act through the Build and answer every time", async () => {
    assert.equal(await ask(42, "/cancel api-2"), "Cancelling api-2, as 42 asked.");
    assert.equal(api.build("api-2").spec.cancel, true);
    assert.equal(api.build("api-2").metadata.annotations?.["kiln.dev/requested-by"], "telegram:42");
    assert.equal(await ask(42, "/cancel api-1"), "api-1 is already over (Failed).");
    assert.equal(await ask(42, "/cancel nope"), "No build nope of a repository announced in this chat.");
    assert.equal(await ask(42, "/release api-1"), "api-1 is not paused (it is Failed).");

    const started = new Date(Date.now() - 60_000).toISOString();
    api.put(makeBuild("api-3", { phase: "Paused", podName: "api-3-pod", startTime: started }));
    const hold = await ask(42, "/hold api-3 30m");
    assert.match(hold, /^Holding api-3 until \d\d:\d\d UTC\.$/);
    const until = Date.parse(api.build("api-3").metadata.annotations?.["kiln.dev/hold-until"] ?? "");
    assert.ok(Math.abs(until - (Date.now() + 30 * 60_000)) < 10_000);
    // Not past the build's own deadline (an hour after it started): its pod stops then anyway.
    assert.match(await ask(42, "/hold api-3 5h"), /\(the build's own deadline: it cannot be held longer\)/);
    const capped = Date.parse(api.build("api-3").metadata.annotations?.["kiln.dev/hold-until"] ?? "");
    assert.equal(capped, Date.parse(started) + 3_600_000);
    assert.equal(await ask(42, "/hold api-3 soon"), '"soon" is not a duration: write it like 30m or 2h.');
    assert.match(await ask(42, "/release api-3"), /^Released api-3: it goes on now \(42\)\.$/);
    assert.match(api.build("api-3").metadata.annotations?.["kiln.dev/resume"] ?? "", /^\d+ telegram:42$/);

    assert.equal(await ask(42, "/approve api-3"), "api-3 waits for no approval (it is Paused).");
    api.put(makeBuild("api-pr", { phase: "Queued", reason: "AwaitingApproval" }));
    assert.equal(
      await ask(-1001, "/approve api-pr", { id: 1234, username: "grace" }),
      "Approved api-pr (@grace): it builds now, without secrets.",
    );
    assert.equal(api.build("api-pr").metadata.annotations?.["kiln.dev/approved-by"], "telegram:@grace");
  });

  test("the buttons under a paused build: release by an admin, a refusal for anyone else", async () => {
    api.put(
      makeBuild("api-4", {
        phase: "Paused",
        podName: "api-4-pod",
        steps: [{ name: "test", phase: "Paused", exitCode: 1 }],
      }),
    );
    const sender = new TelegramSender(new Telegram(telegram.token, { apiRoot: telegram.apiRoot }));
    const announcement = formatAnnouncement({
      build: api.build("api-4"),
      repository: "acme/api",
      event: "paused",
    });
    const sent = await sender.send("-1001", announcement);
    assert.equal(sent.kind, "sent");
    const messageID = sent.kind === "sent" ? sent.messageID : 0;
    const message = telegram.messagesTo(-1001).at(-1)!;
    assert.match(message.text, /kubectl exec -it api-4-pod -c build -n default -- sh/);
    assert.deepEqual(
      message.reply_markup?.inline_keyboard[0]?.map((b) => [b.text, b.callback_data]),
      [
        ["▶️ Release", "release:uid-api-4"],
        ["⏹ Cancel", "cancel:uid-api-4"],
      ],
    );

    const before = telegram.messagesTo(-1001).length;
    telegram.userPresses(messageID, "release:uid-api-4", { id: 7, username: "bob" });
    await waitUntil(() => telegram.callbackAnswers.length === 1);
    assert.match(
      telegram.callbackAnswers[0]!.text ?? "",
      /^Sorry @bob, only the admins of acme\/api may \/release/,
    );
    assert.equal(api.build("api-4").metadata.annotations?.["kiln.dev/resume"], undefined);
    assert.equal(telegram.messagesTo(-1001).length, before, "a refusal is said on the button only");

    telegram.userPresses(messageID, "release:uid-api-4", { id: 42 });
    await waitUntil(() => telegram.callbackAnswers.length === 2);
    assert.match(telegram.callbackAnswers[1]!.text ?? "", /^Released api-4/);
    assert.match(api.build("api-4").metadata.annotations?.["kiln.dev/resume"] ?? "", /telegram:42$/);
    const said = (await telegram.waitForMessages(before + 1, { chat: -1001 })).at(-1)!;
    assert.match(said.text, /^Released api-4: it goes on now \(42\)\.$/);
    assert.equal(
      telegram.messagesTo(-1001).find((m) => m.message_id === messageID)?.reply_markup,
      undefined,
      "buttons gone",
    );
  });

  test("/log answers the tail of the build's log, escaped", async () => {
    const reply = await ask(42, "/log api-1");
    const lines = reply.split("\n");
    assert.equal(lines[0], "Last lines of api-1:");
    assert.equal(lines.length, 51);
    assert.equal(lines[1], "line 70 <script>&</script>");
    assert.equal(lines.at(-1), "line 119 <script>&</script>");
    assert.match(await ask(42, "/log api-2"), /has no pod/);
  });
});

describe("/log with a store", () => {
  async function botWith(store: unknown, storeReadMs = 5000): Promise<KilnBot> {
    await bot.stop();
    bot = new KilnBot({
      token: telegram.token,
      apiRoot: telegram.apiRoot,
      api,
      log: silentLogger(),
      store: store as StoreClient,
      storeReadMs,
    });
    await bot.start();
    return bot;
  }
  /** A store that keeps one deleted Build's log, recorded as a build of `repository`. */
  const storeOf = (repository: string) => ({
    buildLogs: async (ref: { build: string }) =>
      ref.build === "gone-1"
        ? {
            namespace: "default",
            build: "gone-1",
            repository,
            steps: [{ step: "test", length: 9, complete: true }],
          }
        : undefined,
    steps: async (ref: { build: string }) =>
      ref.build === "gone-1" ? [{ step: "test", length: 9, complete: true }] : [],
    readLog: async () => ({
      length: 9,
      complete: true,
      body: Readable.from([Buffer.from("from the store\n")]),
    }),
  });

  test("a deleted Build's log, in the chats of the repository the store recorded, and no other", async () => {
    await botWith(storeOf("secret"));
    assert.match(await ask(42, "/log gone-1"), /^Usage: \/log/, "api's chat: not its build");
    const reply = await ask(99, "/log gone-1", { id: 99 });
    assert.match(reply, /^Last lines of gone-1:/);
    assert.match(reply, /from the store/);
  });

  test("a store that does not answer: the pod's log, within the store's wait", async () => {
    const hung = net.createServer(() => undefined);
    await new Promise<void>((r) => hung.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(hung.address() as net.AddressInfo).port}`;
    try {
      await botWith(new StoreClient({ url, token: () => "t" }), 300);
      const reply = await ask(42, "/log api-1");
      assert.match(reply, /^Last lines of api-1:/);
      assert.match(reply, /line 119/);
    } finally {
      hung.close();
    }
  });
});

describe("formatLogTail", () => {
  test("keeps the newest lines that fit one message", () => {
    const html = formatLogTail("b", Array.from({ length: 50 }, () => "&".repeat(400)).join("\n"));
    assert.ok(html.length <= 4096);
    assert.ok(html.endsWith("</pre>"));
  });
});
