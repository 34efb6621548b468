import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { silentLogger } from "../../lib/log.ts";
import { FakeTelegram } from "../../test/fakes/telegram/server.ts";
import { KilnBot } from "./bot.ts";
import { formatLogTail } from "./commands.ts";
import { MemoryApi } from "./memory-api.ts";
import { makeBuild, makeRepository } from "./testing.ts";

let telegram: FakeTelegram;
let api: MemoryApi;
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
  api = new MemoryApi();
  api.put(makeRepository({ chats: ["42", "-1001"], when: ["failure"] }));
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

async function ask(chat: number, text: string): Promise<string> {
  const before = telegram.messagesTo(chat).length;
  telegram.userSays(chat, text);
  const messages = await telegram.waitForMessages(before + 1, { chat, timeoutMs: 5000 });
  return messages.at(-1)!.text;
}

describe("Telegram bot commands", () => {
  test("registers its commands", () => {
    assert.deepEqual(
      (telegram.commands as { command: string }[]).map((c) => c.command),
      ["builds", "rebuild", "log", "help"],
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
    telegram.userSays(555, "/rebuild api-1");
    await ask(42, "/help"); // the bot has handled the stranger's updates by now
    assert.equal(telegram.messagesTo(555).length, 0, "strangers get no answer");
    assert.equal(await api.getBuild("default", "api-1-again"), undefined);
  });

  test("/rebuild creates a new Build of the same commit, trigger manual", async () => {
    const reply = await ask(42, "/rebuild api-1");
    assert.equal(reply, "Started api-1-again, a rebuild of api-1.");
    const created = api.build("api-1-again");
    assert.deepEqual(created.spec.revision, api.build("api-1").spec.revision);
    assert.deepEqual(created.spec.trigger, { event: "manual" });
    assert.equal(created.metadata.annotations?.["kiln.dev/requested-by"], "telegram:42");
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

describe("formatLogTail", () => {
  test("keeps the newest lines that fit one message", () => {
    const html = formatLogTail("b", Array.from({ length: 50 }, () => "&".repeat(400)).join("\n"));
    assert.ok(html.length <= 4096);
    assert.ok(html.endsWith("</pre>"));
  });
});
