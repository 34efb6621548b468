import assert from "node:assert/strict";
import { test } from "node:test";
import { parseOptions } from "./options.ts";

test("defaults: fixed ports a person can type, the Telegram stand-in, the demo", () => {
  const options = parseOptions([], {});
  assert.ok(!("help" in options));
  assert.deepEqual(
    [options.port, options.webhookPort, options.githubPort, options.telegramPort, options.demo],
    [6443, 8080, 8081, 0, true],
  );
  assert.equal(options.telegram, undefined);
  assert.match(options.kubeconfig, /\/kiln-sandbox\.kubeconfig$/);
});

test("ports from options, 0 for any; a bad one is an error naming the flag", () => {
  const options = parseOptions(["--github-port", "0", "--telegram-port", "9999", "--no-demo"], {});
  assert.ok(!("help" in options));
  assert.deepEqual([options.githubPort, options.telegramPort, options.demo], [0, 9999, false]);
  assert.throws(() => parseOptions(["--github-port", "http"], {}), /--github-port must be a port number/);
});

test("real Telegram: a token (flag or KILN_TELEGRAM_TOKEN) with a chat, and admins", () => {
  const options = parseOptions(
    [
      "--telegram-token",
      "123:abc",
      "--telegram-chat=-1001234",
      "--telegram-admin",
      "@ada,42",
      "--telegram-admin",
      "@bob",
    ],
    {},
  );
  assert.ok(!("help" in options));
  assert.deepEqual(options.telegram, { token: "123:abc", chat: "-1001234", admins: ["@ada", "42", "@bob"] });
  const fromEnv = parseOptions(["--telegram-chat", "@channel"], { KILN_TELEGRAM_TOKEN: "456:def" });
  assert.ok(!("help" in fromEnv));
  assert.deepEqual(fromEnv.telegram, { token: "456:def", chat: "@channel", admins: [] });
});

test("real Telegram needs both a token and a chat; admins only with it; ids checked", () => {
  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [["--telegram-token", "1:a"], {}, /--telegram-token needs --telegram-chat/],
    [[], { KILN_TELEGRAM_TOKEN: "1:a" }, /--telegram-token needs --telegram-chat/],
    [["--telegram-chat=-100"], {}, /--telegram-chat needs --telegram-token/],
    [["--telegram-token", "1:a", "--telegram-chat", "team chat"], {}, /must be a chat id/],
    [
      ["--telegram-token", "1:a", "--telegram-chat", "1", "--telegram-admin", "ada"],
      {},
      /numeric user id or an @username/,
    ],
    [["--telegram-admin", "@ada"], {}, /--telegram-admin is for real Telegram/],
    [["--what"], {}, /Unknown option '--what'/],
  ];
  // A group's id is negative: parseArgs takes it only as --telegram-chat=-100…, and says so.
  cases.push([["--telegram-token", "1:a", "--telegram-chat", "-100"], {}, /use '--telegram-chat=-XYZ'/]);
  for (const [args, env, error] of cases) assert.throws(() => parseOptions(args, env), error, args.join(" "));
});

test("--help", () => {
  assert.deepEqual(parseOptions(["--help"], {}), { help: true });
});
