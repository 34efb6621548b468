import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseHtml } from "../stand-ins/telegram/html.ts";
import {
  type ChatMessage,
  parseConsoleLine,
  renderDelivery,
  renderEntities,
  renderMessage,
  renderStatus,
} from "./console.ts";

/** A message as the Telegram stand-in keeps it: the bot's HTML parsed into text and entities. */
function message(id: number, html: string, buttons?: Array<[string, string]>): ChatMessage {
  return {
    message_id: id,
    ...parseHtml(html),
    ...(buttons && {
      reply_markup: { inline_keyboard: [buttons.map(([text, data]) => ({ text, callback_data: data }))] },
    }),
  };
}

describe("chat messages on the console", () => {
  test("plain: the words, a link's URL after its text, a link that is its own URL once", () => {
    const { text, entities } = parseHtml(
      '✅ <b>Succeeded</b>: <a href="http://127.0.0.1:8081/x/compare/a...b"><code>0123456</code></a> Fix <i>it</i> — see <a href="http://k.example">http://k.example</a>',
    );
    assert.equal(
      renderEntities(text, entities, false),
      "✅ Succeeded: 0123456 (http://127.0.0.1:8081/x/compare/a...b) Fix it — see http://k.example",
    );
  });

  test("ANSI: bold, italic and code styled, nested entities closed inside out", () => {
    const { text, entities } = parseHtml('<b>B</b> <a href="http://u"><code>c</code></a> <i>i</i>');
    assert.equal(
      renderEntities(text, entities, true),
      "\x1b[1mB\x1b[22m \x1b[36mc\x1b[39m (http://u) \x1b[3mi\x1b[23m",
    );
  });

  test("offsets count UTF-16 units, as Telegram's do: emoji before an entity do not shift it", () => {
    const { text, entities } = parseHtml('⏸🐛 <a href="http://u">x</a>!');
    assert.equal(renderEntities(text, entities, false), "⏸🐛 x (http://u)!");
  });

  test("one chat ▸ header line per message, the rest indented, the keyboard under it with the hint", () => {
    const lines = renderMessage(
      message(3, "⏸ Paused: <b>acme/app</b> <code>main</code>\nkubectl exec -it pod -c build -- sh", [
        ["▶️ Release", "release:u1"],
        ["⛔ Cancel", "cancel:u1"],
      ]),
      false,
    );
    assert.deepEqual(lines, [
      "chat ▸ ⏸ Paused: acme/app main",
      "       kubectl exec -it pod -c build -- sh",
      "       [▶️ Release] [⛔ Cancel]   (type a button's label to press it, or /press <n>)",
    ]);
  });
});

test("commit statuses and deliveries: one greppable line each", () => {
  assert.equal(
    renderStatus("0123456789abcdef", {
      state: "success",
      context: "kiln",
      description: "Passed in 4s",
      target_url: null,
    }),
    "status ▸ 0123456 kiln success Passed in 4s",
  );
  assert.equal(
    renderStatus("0123456789abcdef", {
      state: "pending",
      context: "kiln",
      description: null,
      target_url: "http://t",
    }),
    "status ▸ 0123456 kiln pending  http://t",
  );
  const push = {
    event: "push",
    status_code: 201,
    status: "OK",
    request: { payload: { ref: "refs/heads/main", before: "0".repeat(40), after: "abcdef0123456789" } },
    response: { payload: JSON.stringify({ message: "build created", builds: ["demo-abcdef0-1"] }) },
  };
  assert.equal(
    renderDelivery(push),
    "push ▸ refs/heads/main 0000000..abcdef0 → webhook 201 build created: demo-abcdef0-1",
  );
  assert.equal(
    renderDelivery({
      ...push,
      status_code: 0,
      status: "failed to connect to host",
      response: { payload: null },
    }),
    "push ▸ refs/heads/main 0000000..abcdef0 → webhook not delivered: failed to connect to host",
  );
  assert.equal(
    renderDelivery({
      ...push,
      event: "ping",
      request: { payload: {} },
      status_code: 200,
      response: { payload: '{"message":"pong"}' },
    }),
    "hook ▸ ping → webhook 200 pong",
  );
});

describe("a console line becomes a chat message or a button press", () => {
  const older = message(1, "⏸ Paused: one", [
    ["▶️ Release", "release:old"],
    ["⛔ Cancel", "cancel:old"],
  ]);
  const plain = message(2, "✅ Succeeded");
  const newer = message(3, "⏸ Paused: two", [
    ["▶️ Release", "release:new"],
    ["⛔ Cancel", "cancel:new"],
  ]);
  const approve = message(4, "A fork's pull request waits", [["✅ Approve", "approve:pr"]]);
  const chat = [older, plain, newer, approve];
  const cases: Array<[string, string, readonly ChatMessage[], ReturnType<typeof parseConsoleLine>]> = [
    ["a command is said in the chat", "/release demo-abc", chat, { kind: "say", text: "/release demo-abc" }],
    [
      "surrounding space and a CR (a pipe from Windows) go",
      "  /builds\r",
      chat,
      { kind: "say", text: "/builds" },
    ],
    ["an empty line is nothing", "   ", chat, { kind: "none" }],
    [
      "a label, in any case and without its emoji, presses it on the newest message showing it",
      "release",
      chat,
      { kind: "press", messageID: 3, data: "release:new", label: "▶️ Release" },
    ],
    [
      "the label as shown works too",
      "✅ Approve",
      chat,
      { kind: "press", messageID: 4, data: "approve:pr", label: "✅ Approve" },
    ],
    [
      "/press <n>: the n-th button of the newest message with buttons",
      "/press 1",
      chat,
      { kind: "press", messageID: 4, data: "approve:pr", label: "✅ Approve" },
    ],
    [
      "/press <label>",
      "/press cancel",
      [older, newer],
      { kind: "press", messageID: 3, data: "cancel:new", label: "⛔ Cancel" },
    ],
    [
      "/press of a button that is not there says which are",
      "/press 3",
      [older, newer],
      { kind: "error", message: 'no button "3" under the newest message: 1 ▶️ Release, 2 ⛔ Cancel' },
    ],
    [
      "/press with no buttons anywhere",
      "/press 1",
      [plain],
      { kind: "error", message: "no message with buttons to press" },
    ],
    [
      "words that are no label are said",
      "Release it please",
      chat,
      { kind: "say", text: "Release it please" },
    ],
    ["a label with no button left is said", "release", [plain], { kind: "say", text: "release" }],
  ];
  for (const [name, line, messages, expected] of cases)
    test(name, () => assert.deepEqual(parseConsoleLine(line, messages), expected));
});
