import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Telegram } from "telegraf";
import { TelegramSender } from "../../controllers/reporting/telegram.ts";
import { FakeTelegram } from "./server.ts";

async function call(fake: FakeTelegram, method: string, body: unknown, token = fake.token) {
  const res = await fetch(`${fake.apiRoot}/bot${token}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("fake Telegram Bot API", () => {
  let fake: FakeTelegram;
  before(async () => {
    fake = await FakeTelegram.start({
      chats: [
        { id: 42, type: "private", first_name: "Ada" },
        { id: -1001, type: "supergroup", title: "CI" },
        { id: -1002, type: "group", title: "Small" },
      ],
      perChatIntervalMs: 1000,
    });
  });
  after(() => fake.stop());

  test("envelopes and validation like the real API", async () => {
    assert.deepEqual((await call(fake, "getMe", {}, "123:wrong")).body, {
      ok: false,
      error_code: 401,
      description: "Unauthorized",
    });
    const me = await call(fake, "getMe", {});
    assert.equal(me.status, 200);
    assert.equal((me.body.result as { is_bot: boolean }).is_bot, true);
    const cases: [unknown, number, string][] = [
      [{ chat_id: 9, text: "hi" }, 400, "Bad Request: chat not found"],
      [{ chat_id: 42, text: "" }, 400, "Bad Request: message text is empty"],
      [{ chat_id: 42, text: "x".repeat(4097) }, 400, "Bad Request: message is too long"],
      [
        { chat_id: 42, text: "<b>x", parse_mode: "HTML" },
        400,
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
      ],
      [
        { chat_id: 42, text: "<script>x</script>", parse_mode: "HTML" },
        400,
        'Bad Request: can\'t parse entities: Unsupported start tag "script" at byte offset 0',
      ],
      [
        { chat_id: 42, text: "a & b", parse_mode: "HTML" },
        400,
        "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 2",
      ],
      [
        { chat_id: 42, text: "v1.2", parse_mode: "MarkdownV2" },
        400,
        "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
      ],
      [{ chat_id: 42, text: "x", parse_mode: "Nope" }, 400, "Bad Request: unsupported parse_mode"],
    ];
    for (const [body, status, description] of cases) {
      const res = await call(fake, "sendMessage", body);
      assert.deepEqual(
        [res.status, res.body.description, res.body.ok],
        [status, description, false],
        JSON.stringify(body),
      );
    }
    // 4096 characters of text after entity parsing is fine even when the HTML is longer.
    const res = await call(fake, "sendMessage", {
      chat_id: -1002,
      text: `<b>${"é".repeat(4096)}</b>`,
      parse_mode: "HTML",
    });
    assert.equal(res.status, 200);
    const message = res.body.result as { text: string; entities: unknown[]; chat: { id: number } };
    assert.equal(message.text.length, 4096);
    assert.deepEqual(message.entities, [{ type: "bold", offset: 0, length: 4096 }]);
    assert.equal(message.chat.id, -1002);
  });

  test("a chat gets 429 with retry_after when messages come too fast", async () => {
    const first = await call(fake, "sendMessage", { chat_id: -1001, text: "one" });
    assert.equal(first.status, 200);
    const second = await call(fake, "sendMessage", { chat_id: -1001, text: "two" });
    assert.equal(second.status, 429);
    assert.deepEqual(second.body, {
      ok: false,
      error_code: 429,
      description: "Too Many Requests: retry after 1",
      parameters: { retry_after: 1 },
    });
  });

  test("a group gets 429 past 20 messages a minute, even with the per-chat spacing off", async () => {
    let now = 1_000_000;
    const groups = await FakeTelegram.start({
      chats: [
        { id: -1003, type: "group", title: "Busy" },
        { id: 43, type: "private", first_name: "Bo" },
      ],
      perChatIntervalMs: 0,
      now: () => now,
    });
    try {
      for (let i = 0; i < 20; i++) {
        now += 100;
        assert.equal((await call(groups, "sendMessage", { chat_id: -1003, text: `m${i}` })).status, 200);
        assert.equal((await call(groups, "sendMessage", { chat_id: 43, text: `m${i}` })).status, 200);
      }
      const over = await call(groups, "sendMessage", { chat_id: -1003, text: "one too many" });
      assert.equal(over.status, 429);
      assert.equal((over.body.parameters as { retry_after: number }).retry_after, 59);
      assert.equal((await call(groups, "sendMessage", { chat_id: 43, text: "private" })).status, 200);
      now += 59_000;
      assert.equal((await call(groups, "sendMessage", { chat_id: -1003, text: "later" })).status, 200);
    } finally {
      await groups.stop();
    }
  });

  test("at most 30 messages a second over all chats: the 31st gets 429 retry_after 1", async () => {
    let now = 2_000_000;
    const chats = Array.from({ length: 31 }, (_, i) => ({ id: 500 + i, type: "private" as const }));
    const busy = await FakeTelegram.start({ chats, now: () => now });
    try {
      for (const chat of chats.slice(0, 30))
        assert.equal((await call(busy, "sendMessage", { chat_id: chat.id, text: "x" })).status, 200);
      const over = await call(busy, "sendMessage", { chat_id: 530, text: "x" });
      assert.equal(over.status, 429);
      assert.equal((over.body.parameters as { retry_after: number }).retry_after, 1);
      now += 1000;
      assert.equal((await call(busy, "sendMessage", { chat_id: 530, text: "x" })).status, 200);
    } finally {
      await busy.stop();
    }
  });

  test("injected errors, blocking, and the sender's classification through telegraf", async () => {
    const sender = new TelegramSender(new Telegram(fake.token, { apiRoot: fake.apiRoot }));
    fake.addChat({ id: 77, type: "private" });
    fake.injectError("sendMessage", { error_code: 429, retry_after: 3, chat: 77 });
    assert.deepEqual(await sender.send("77", { html: "<b>x</b>", text: "x" }), {
      kind: "retry",
      reason: "TooManyRequests",
      afterMs: 3000,
    });
    fake.injectError("sendMessage", { error_code: 502 });
    assert.deepEqual(await sender.send("77", { html: "x", text: "x" }), {
      kind: "retry",
      reason: "ServerError",
      message: "502 Bad Gateway",
    });
    fake.injectError("sendMessage", { error_code: 401 });
    assert.equal((await sender.send("77", { html: "x", text: "x" })).kind, "failed");
    // A parse error falls back to plain text.
    const fallback = await sender.send("77", { html: "<b>broken", text: "plain" });
    assert.equal(fallback.kind, "sent");
    assert.equal(fake.messagesTo(77).at(-1)?.text, "plain");
    assert.equal(fake.messagesTo(77).at(-1)?.parse_mode, undefined);
    assert.deepEqual(await sender.send("12345", { html: "x", text: "x" }), {
      kind: "blocked",
      reason: "ChatNotFound",
      message: "Bad Request: chat not found",
    });
    fake.addChat({ id: 78, type: "private" });
    fake.block(78);
    assert.deepEqual(await sender.send("78", { html: "x", text: "x" }), {
      kind: "blocked",
      reason: "Forbidden",
      message: "Forbidden: bot was blocked by the user",
    });
  });

  test("a hung request is given up after the sender's timeout and counts as not delivered", async () => {
    const sender = new TelegramSender(new Telegram(fake.token, { apiRoot: fake.apiRoot }), {
      timeoutMs: 200,
    });
    fake.addChat({ id: 79, type: "private" });
    fake.hang("sendMessage");
    const started = Date.now();
    const hung = await sender.send("79", { html: "x", text: "x" });
    assert.equal(hung.kind, "retry");
    assert.equal(hung.kind === "retry" && hung.reason, "NetworkError");
    assert.match((hung.kind === "retry" && hung.message) || "", /abort|timeout/i);
    assert.ok(Date.now() - started < 5000);
    assert.equal((await sender.send("79", { html: "y", text: "y" })).kind, "sent");
  });

  test("getUpdates long-polls for injected user messages and confirms by offset", async () => {
    const waiting = call(fake, "getUpdates", { timeout: 5, offset: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const id = fake.userSays(-1001, "/builds@kiln_test_bot api");
    const { body } = await waiting;
    const updates = body.result as { update_id: number; message: { text: string; entities: unknown[] } }[];
    assert.equal(updates.length, 1);
    assert.equal(updates[0]!.update_id, id);
    assert.deepEqual(updates[0]!.message.entities, [{ type: "bot_command", offset: 0, length: 21 }]);
    const confirmed = await call(fake, "getUpdates", { timeout: 0, offset: id + 1 });
    assert.deepEqual(confirmed.body.result, []);
    const commands = await call(fake, "setMyCommands", { commands: [{ command: "Bad!", description: "x" }] });
    assert.equal(commands.body.description, "Bad Request: BOT_COMMAND_INVALID");
  });

  test("events: every message the bot sends, every change of its buttons, every answer to a press", async () => {
    // Its own server: the tests above used up the overall 30 messages a second.
    const own = await FakeTelegram.start({ chats: [{ id: 77, type: "private", first_name: "Eve" }] });
    const seen: string[] = [];
    own.events.on("message", (m) => seen.push(`message ${m.text}`));
    own.events.on("edited", (m) => seen.push(`edited ${JSON.stringify(m.reply_markup)}`));
    own.events.on("answered", (a) => seen.push(`answered ${a.text}`));
    try {
      const keyboard = { inline_keyboard: [[{ text: "▶️ Release", callback_data: "release:1" }]] };
      const sent = await call(own, "sendMessage", {
        chat_id: 77,
        text: "<b>Paused</b>",
        parse_mode: "HTML",
        reply_markup: keyboard,
      });
      const messageID = (sent.body.result as { message_id: number }).message_id;
      const query = own.userPresses(messageID, "release:1");
      await call(own, "answerCallbackQuery", { callback_query_id: query, text: "Released" });
      await call(own, "editMessageReplyMarkup", { chat_id: 77, message_id: messageID });
    } finally {
      await own.stop();
    }
    assert.deepEqual(seen, ["message Paused", "answered Released", "edited undefined"]);
  });
});
