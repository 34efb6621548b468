import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ConfigError } from "../config.ts";
import { parseReportingConfig } from "./config.ts";

describe("parseReportingConfig", () => {
  test("defaults: GitHub only, api.telegram.org, context kiln", () => {
    assert.deepEqual(JSON.parse(JSON.stringify(parseReportingConfig([], {}))), {
      telegramAPIRoot: "https://api.telegram.org",
      telegramCommands: true,
      statusContext: "kiln",
    });
  });

  test("flags win over environment; the token comes from a file", () => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-config-"));
    writeFileSync(join(dir, "token"), "123:abc\n");
    const config = parseReportingConfig(
      [
        "--telegram-token-file",
        join(dir, "token"),
        "--public-url",
        "https://kiln.example",
        "--other-flag",
        "x",
      ],
      {
        KILN_TELEGRAM_API_ROOT: "http://127.0.0.1:9",
        KILN_PUBLIC_URL: "https://ignored.example",
        KILN_TELEGRAM_TOKEN: "no",
      },
    );
    assert.equal(config.telegramToken, "123:abc");
    assert.equal(config.telegramAPIRoot, "http://127.0.0.1:9");
    assert.equal(config.publicURL, "https://kiln.example");
  });

  test("bad input is a clear error", () => {
    assert.throws(
      () => parseReportingConfig(["--public-url", "not a url"], {}),
      /invalid reporting configuration: publicURL: /,
    );
    // A ConfigError: `kiln controller` prints it with the usage and exits 2, not with a stack trace.
    assert.throws(() => parseReportingConfig(["--public-url", "not a url"], {}), ConfigError);
    // A directory where the token file should be cannot be read: that is a misconfiguration.
    const dir = mkdtempSync(join(tmpdir(), "kiln-config-"));
    assert.throws(
      () => parseReportingConfig(["--telegram-token-file", dir], {}),
      (err) => err instanceof ConfigError && /cannot read the Telegram token file/.test(err.message),
    );
  });

  test("a token file that is not there (the optional kiln-telegram Secret is absent) means no chat, and says so", () => {
    const config = parseReportingConfig([], { KILN_TELEGRAM_TOKEN_FILE: "/nonexistent/kiln-telegram/token" });
    assert.equal(config.telegramToken, undefined);
    assert.match(
      config.telegramOff ?? "",
      /no Telegram token file at \/nonexistent\/kiln-telegram\/token .*chat is off/,
    );
    const fromEnv = parseReportingConfig([], {
      KILN_TELEGRAM_TOKEN_FILE: "/nonexistent/kiln-telegram/token",
      KILN_TELEGRAM_TOKEN: "123:abc",
    });
    assert.equal(fromEnv.telegramToken, "123:abc");
    assert.equal(fromEnv.telegramOff, undefined);
  });
});
