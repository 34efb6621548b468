import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../config.ts";
import { parseRepositoryConfig } from "./module.ts";

test("flags over environment; durations parsed; other controllers' flags ignored", () => {
  const config = parseRepositoryConfig(
    ["--webhook-url", "https://kiln.example/hooks/github", "--image", "x"],
    {
      KILN_WEBHOOK_URL: "https://env.example/hooks/github",
      KILN_REPOSITORY_INTERVAL: "90s",
      KILN_CATCH_UP_GRACE: "2m",
    },
  );
  assert.deepEqual(config, {
    webhookURL: "https://kiln.example/hooks/github",
    intervalMs: 90_000,
    graceMs: 120_000,
  });
});

test("bad values are clear errors", () => {
  assert.throws(() => parseRepositoryConfig(["--repository-interval", "often"], {}), /repository-interval/);
  assert.throws(() => parseRepositoryConfig([], { KILN_WEBHOOK_URL: "kiln" }), /webhookURL/);
  assert.throws(() => parseRepositoryConfig([], { KILN_WEBHOOK_URL: "kiln" }), ConfigError);
});
