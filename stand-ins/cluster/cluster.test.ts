// The test cluster's entry points: argument parsing, the kubeconfig it writes, and both commands run as
// people run them (`npm run test-cluster`) until SIGTERM; `kiln sandbox` has sandbox.test.ts.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parse } from "yaml";
import { kubeconfigYaml, writeKubeconfig } from "./kubeconfig.ts";
import { parseClusterArgs } from "./main.ts";
import { readCRDs } from "./start.ts";

const root = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "kiln-cluster-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("arguments", () => {
  assert.deepEqual(parseClusterArgs(["--port", "0", "--kubeconfig", "k"]), {
    port: 0,
    kubeconfig: "k",
    kubelet: false,
    crds: true,
  });
  assert.deepEqual(parseClusterArgs(["--kubelet", "--no-crds"]).crds, false);
  assert.throws(() => parseClusterArgs(["--port", "http"]), /--port must be a port number/);
  assert.throws(() => parseClusterArgs(["--bogus"]), /Unknown option/);
});

test("the kubeconfig names the server, trusts its CA and carries the token", () => {
  const config = parse(kubeconfigYaml({ server: "https://127.0.0.1:1", caPem: "PEM", token: "t0k" })) as {
    clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
    users: { user: { token: string } }[];
    "current-context": string;
  };
  assert.equal(config.clusters[0]!.cluster.server, "https://127.0.0.1:1");
  assert.equal(
    Buffer.from(config.clusters[0]!.cluster["certificate-authority-data"], "base64").toString(),
    "PEM",
  );
  assert.equal(config.users[0]!.user.token, "t0k");
  assert.equal(config["current-context"], "kiln-test");
});

test("a kubeconfig written over an existing world-readable file is made private first", async () => {
  const path = join(dir, "reused-kubeconfig");
  writeFileSync(path, "old", { mode: 0o644 });
  await writeKubeconfig(path, { server: "https://127.0.0.1:1", caPem: "PEM", token: "t0k" });
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.match(readFileSync(path, "utf8"), /token: t0k/);
});

test("Kiln's CRDs are read from manifests/crds", async () => {
  const names = (await readCRDs()).map((c) => c.metadata.name).sort();
  assert.deepEqual(names, ["builds.kiln.dev", "repositories.kiln.dev"]);
});

async function runUntilReady(args: string[], kubeconfig: string): Promise<void> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolveExit) => child.on("close", (code) => resolveExit(code)));
  try {
    const deadline = Date.now() + 15_000;
    while (!existsSync(kubeconfig)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`no kubeconfig; output:\n${output}`);
      await sleep(50);
    }
    assert.equal(statSync(kubeconfig).mode & 0o777, 0o600, "the kubeconfig holds the admin token");
    const config = parse(readFileSync(kubeconfig, "utf8")) as {
      clusters: { cluster: { server: string } }[];
      users: { user: { token: string } }[];
    };
    const server = config.clusters[0]!.cluster.server;
    assert.match(server, /^https:\/\/127\.0\.0\.1:\d+$/);
    const { rawRequest } = await import("../../test/conformance/helpers.ts");
    const ca = Buffer.from(
      (
        parse(readFileSync(kubeconfig, "utf8")) as {
          clusters: { cluster: { "certificate-authority-data": string } }[];
        }
      ).clusters[0]!.cluster["certificate-authority-data"],
      "base64",
    ).toString();
    const crds = await rawRequest(
      { url: server, caPem: ca, adminToken: config.users[0]!.user.token },
      "GET",
      "/apis/kiln.dev/v1alpha1",
    );
    assert.equal(crds.status, 200, crds.text);
  } finally {
    child.kill("SIGTERM");
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, 0, `exit on SIGTERM; output:\n${output}`);
}

describe("commands", () => {
  test("npm run test-cluster -- --port 0 --kubeconfig <file>", async () => {
    const kubeconfig = join(dir, "test-cluster.kubeconfig");
    await runUntilReady(["stand-ins/cluster/main.ts", "--port", "0", "--kubeconfig", kubeconfig], kubeconfig);
  });
});
