// The README's first command: `kiln sandbox` starts all of Kiln on one machine, runs the demo Build to
// Succeeded (checked with real kubectl, as a person would), and stops cleanly on Ctrl-C.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

const root = resolve(import.meta.dirname, "..");
const kubectlPath = resolve(root, ".tools/bin/kubectl");
const dir = mkdtempSync(join(tmpdir(), "kiln-sandbox-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("kiln sandbox runs the demo build to Succeeded and stops on SIGINT", async () => {
  const kubeconfig = join(dir, "kubeconfig");
  const child = spawn(
    process.execPath,
    ["bin/kiln.ts", "sandbox", "--port", "0", "--webhook-port", "0", "--kubeconfig", kubeconfig],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
  const kubectl = async (...args: string[]) =>
    (
      await promisify(execFile)(
        kubectlPath,
        ["--kubeconfig", kubeconfig, "--request-timeout", "5s", ...args],
        {
          encoding: "utf8",
        },
      )
    ).stdout;
  try {
    const deadline = Date.now() + 30_000;
    let phase = "";
    while (phase !== "Succeeded") {
      assert.ok(
        Date.now() < deadline,
        `the demo build did not succeed (phase "${phase}"); output:\n${output}`,
      );
      assert.equal(child.exitCode, null, `the sandbox exited; output:\n${output}`);
      await sleep(200);
      if (!existsSync(kubeconfig) || !output.includes("Stop with Ctrl-C")) continue;
      phase = await kubectl(
        "get",
        "builds",
        "-l",
        "kiln.dev/repository=demo",
        "-o",
        "jsonpath={.items[*].status.phase}",
      );
    }
    assert.match(output, /webhook\s+http:\/\/127\.0\.0\.1:\d+\/hooks\/github/);
    const table = await kubectl("get", "builds");
    assert.match(table, /NAME\s+REPOSITORY\s+BRANCH\s+COMMIT\s+PHASE\s+DURATION\s+AGE/);
    assert.match(table, /demo-[0-9a-f]{7}\s+demo\s+main\s+[0-9a-f]{7}\s+Succeeded/);
    const logs = await kubectl("logs", "-l", "kiln.dev/repository=demo", "-c", "build");
    assert.match(logs, /Hello from a Kiln build/);
  } finally {
    child.kill("SIGINT");
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, 0, `exit on SIGINT; output:\n${output}`);
});
