import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_MAX_BODY_BYTES, parseWebhookConfig } from "./config.ts";

test("defaults: port 8080, 25 MB body cap, all namespaces", () => {
  const config = parseWebhookConfig([], {});
  assert.equal(config.port, 8080);
  assert.equal(config.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  assert.equal(config.maxBodyBytes, 25 * 1024 * 1024);
  assert.deepEqual(config.namespaces, []);
});

test("flags win over the environment", () => {
  const config = parseWebhookConfig(["--port", "9000", "--kubeconfig", "/k"], {
    KILN_WEBHOOK_PORT: "7000",
    KUBECONFIG: "/env",
    KILN_NAMESPACES: "ci, builds",
    KILN_PUBLIC_URL: "https://kiln.example",
  });
  assert.equal(config.port, 9000);
  assert.equal(config.kubeconfig, "/k");
  assert.deepEqual(config.namespaces, ["ci", "builds"]);
  assert.equal(config.publicURL, "https://kiln.example");
});

test("bad input is a clear error naming the field", () => {
  assert.throws(() => parseWebhookConfig(["--port", "http"], {}), /port/);
  assert.throws(() => parseWebhookConfig([], { KILN_PUBLIC_URL: "not a url" }), /publicURL/);
  assert.throws(() => parseWebhookConfig(["--max-body-bytes", "10"], {}), /maxBodyBytes/);
  assert.throws(() => parseWebhookConfig(["--bogus"], {}), /bogus/);
});

test("the build pages: the store's URL and token file, and --page-auth, by flag or environment", () => {
  const off = parseWebhookConfig([], {});
  assert.equal(off.pageAuth, false);
  assert.equal(off.storeURL, undefined);
  const env = parseWebhookConfig([], {
    KILN_STORE_URL: "http://kiln-store.kiln.svc",
    KILN_STORE_TOKEN_FILE: "/var/run/secrets/kiln.dev/store/token",
    KILN_PAGE_AUTH: "true",
  });
  assert.equal(env.storeURL, "http://kiln-store.kiln.svc");
  assert.equal(env.storeTokenFile, "/var/run/secrets/kiln.dev/store/token");
  assert.equal(env.pageAuth, true);
  assert.equal(parseWebhookConfig(["--page-auth"], { KILN_PAGE_AUTH: "false" }).pageAuth, true);
  assert.throws(() => parseWebhookConfig([], { KILN_PAGE_AUTH: "yes" }), /pageAuth/);
  assert.throws(
    () => parseWebhookConfig(["--store-url", "http://127.0.0.1:1"], {}),
    /storeTokenFile: --store-url needs --store-token-file/,
  );
});
