import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { CliError } from "./errors.ts";
import { kubeconfigSource, openSession } from "./session.ts";

const files = new Set([
  "/flag",
  "/a",
  "/c",
  "/home/u/.kube/config",
  "/var/run/secrets/kubernetes.io/serviceaccount/token",
]);
const exists = (path: string) => files.has(path);

describe("kubeconfigSource: where kubectl would look", () => {
  test("--kubeconfig wins; a missing one is an error", () => {
    assert.deepEqual(kubeconfigSource("/flag", { KUBECONFIG: "/a" }, "/home/u", exists), {
      kind: "files",
      files: ["/flag"],
      from: "--kubeconfig",
    });
    assert.deepEqual(kubeconfigSource("/nope", {}, "/home/u", exists), {
      kind: "none",
      reason: "--kubeconfig /nope: no such file",
    });
  });
  test("then the files of KUBECONFIG that exist, merged in order", () => {
    assert.deepEqual(kubeconfigSource(undefined, { KUBECONFIG: "/a:/b:/c" }, "/home/u", exists), {
      kind: "files",
      files: ["/a", "/c"],
      from: "KUBECONFIG",
    });
    assert.equal(kubeconfigSource(undefined, { KUBECONFIG: "/x:/y" }, "/home/u", exists).kind, "none");
  });
  test("then ~/.kube/config, then the in-cluster account, else a clear no", () => {
    assert.deepEqual(kubeconfigSource(undefined, {}, "/home/u", exists).kind, "files");
    assert.deepEqual(
      kubeconfigSource(undefined, { KUBERNETES_SERVICE_HOST: "10.0.0.1" }, "/nowhere", exists),
      {
        kind: "in-cluster",
      },
    );
    assert.deepEqual(kubeconfigSource(undefined, {}, "/nowhere", exists), {
      kind: "none",
      reason: "no kubeconfig: pass --kubeconfig <file>, set KUBECONFIG, or create ~/.kube/config",
    });
  });
});

describe("openSession", () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-cli-session-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "kubeconfig");
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server: "https://127.0.0.1:1" } }],
      users: [{ name: "u", user: { token: "t" } }],
      contexts: [
        { name: "dev", context: { cluster: "c", user: "u", namespace: "team" } },
        { name: "bare", context: { cluster: "c", user: "u" } },
      ],
      "current-context": "dev",
    }),
  );
  test("the namespace: -n, else the context's, else default; --context picks the context", () => {
    const open = (connection: object) => {
      const s = openSession({ kubeconfig: path, ...connection }, {});
      s.close();
      return s.namespace;
    };
    assert.equal(open({}), "team");
    assert.equal(open({ namespace: "other" }), "other");
    assert.equal(open({ context: "bare" }), "default");
  });
  test("a context the kubeconfig lacks is an error naming those it has", () => {
    assert.throws(
      () => openSession({ kubeconfig: path, context: "prod" }, {}),
      (e: Error) =>
        e instanceof CliError && e.message === 'the kubeconfig has no context "prod" (it has dev, bare)',
    );
  });
});
