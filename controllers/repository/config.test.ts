import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../config.ts";
import { parseRepositoryConfig } from "./config.ts";

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
    buildAccess: true,
    agentClusterRole: "kiln-build-agent",
    webhookServiceAccount: { namespace: "kiln", serviceAccount: "kiln-webhook" },
    buildNetworkPolicy: true,
  });
});

test("build access: the webhook's account follows Kiln's namespace; both parts can be switched off", () => {
  const inTeam = parseRepositoryConfig([], { KILN_NAMESPACE: "ci-system" });
  assert.deepEqual(inTeam.webhookServiceAccount, { namespace: "ci-system", serviceAccount: "kiln-webhook" });
  const off = parseRepositoryConfig(["--no-build-access", "--no-build-network-policy"], {});
  assert.equal(off.buildAccess, false);
  assert.equal(off.buildNetworkPolicy, false);
  assert.equal(parseRepositoryConfig([], { KILN_BUILD_ACCESS: "false" }).buildAccess, false);
  assert.throws(
    () => parseRepositoryConfig(["--webhook-service-account", "kiln-webhook"], {}),
    /<namespace>:<name>/,
  );
});

test("bad values are clear errors", () => {
  assert.throws(() => parseRepositoryConfig(["--repository-interval", "often"], {}), /repository-interval/);
  assert.throws(() => parseRepositoryConfig([], { KILN_WEBHOOK_URL: "kiln" }), /webhookURL/);
  assert.throws(() => parseRepositoryConfig([], { KILN_WEBHOOK_URL: "kiln" }), ConfigError);
});
