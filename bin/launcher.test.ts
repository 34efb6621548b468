// The launcher (bin/kiln.mjs, package.json "bin"): run by the machine's own Node (20 here, which cannot
// run .ts), it runs Kiln with the project's Node 24 — arguments, exit codes and signals passed through.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { gone } from "../test/agent/processes.ts";
import { waitFor } from "../test/wait-for.ts";

const LAUNCHER = join(import.meta.dirname, "kiln.mjs");
const SYSTEM_NODE = "/usr/bin/node";
const systemMajor = existsSync(SYSTEM_NODE)
  ? Number(execFileSync(SYSTEM_NODE, ["-p", "process.versions.node"], { encoding: "utf8" }).split(".")[0])
  : undefined;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-launcher-"));
  dirs.push(dir);
  return dir;
}
function repo(manifest: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, ".kiln.yaml"), manifest);
  return dir;
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function launch(
  node: string,
  args: string[],
  onStart?: (child: ReturnType<typeof spawn>, output: () => string) => void,
  launcher = LAUNCHER,
): Promise<Ended> {
  return new Promise((resolve, reject) => {
    // No node_modules/.bin on PATH: the launcher must find Node 24 by itself.
    const child = spawn(node, [launcher, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PATH: "/usr/bin:/bin" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the launcher did not finish\n${stdout}\n${stderr}`));
    }, 20_000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    onStart?.(child, () => stderr);
  });
}

/** The launcher's children (the Node 24 process it started). */
function children(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text ? text.split(/\s+/).map(Number) : [];
}

const SLOW_STEP = `echo $$ >> pids; sleep 30 & echo $! >> pids; wait`;

describe("the launcher under the machine's own Node", {
  skip: systemMajor === undefined && "no /usr/bin/node",
}, () => {
  test("kiln run runs on Node 24; the exit codes of success, failure and an invalid manifest pass through", async () => {
    const ok = repo(
      `steps:\n  - {name: hello, run: 'echo "ran $KILN_STEP under $(readlink /proc/$PPID/exe)"'}\n`,
    );
    const r = await launch(SYSTEM_NODE, ["run", ok]);
    assert.equal(r.code, 0, r.stderr);
    // kiln (the step's parent) is the project's Node 24, not the machine's.
    const node24 = realpathSync(join(import.meta.dirname, "../node_modules/node/bin/node"));
    assert.match(r.stdout, new RegExp(`^hello \\| ran hello under ${node24}$`, "m"));
    const failing = repo("steps:\n  - {name: broken, run: exit 3}\n");
    const f = await launch(SYSTEM_NODE, ["run", failing]);
    assert.equal(f.code, 1);
    assert.match(f.stderr, /step "broken" failed with exit code 3/);
    const invalid = repo("stpes: []\n");
    assert.equal((await launch(SYSTEM_NODE, ["run", invalid])).code, 2);
  });

  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    test(`${signal} to the launcher reaches kiln run: the step is stopped, exit 130`, async () => {
      const dir = repo(`steps:\n  - {name: slow, run: "${SLOW_STEP}"}\n`);
      const r = await launch(SYSTEM_NODE, ["run", dir, "--grace", "500ms"], (child) => {
        waitFor("the step's pids", () => existsSync(join(dir, "pids"))).then(
          () => child.kill(signal),
          () => child.kill("SIGKILL"),
        );
      });
      const pids = readFileSync(join(dir, "pids"), "utf8").trim().split(/\s+/).map(Number);
      for (const pid of pids) assert.ok(await gone(pid), `process ${pid} survived`);
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /cancelled during step "slow"/);
    });
  }

  test("SIGUSR1 is passed on (it resumes a pause)", async () => {
    const dir = repo(
      `steps:\n  - {name: look, type: pause, timeout: 20s}\n  - {name: after, run: echo resumed}\n`,
    );
    const r = await launch(SYSTEM_NODE, ["run", dir], (child, stderr) => {
      waitFor("the pause", () => /press Enter/.test(stderr())).then(
        () => child.kill("SIGUSR1"),
        () => child.kill("SIGKILL"),
      );
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /resumed/);
  });

  test("when Node 24 is killed, the launcher ends with the same signal", async () => {
    const dir = repo("steps:\n  - {name: look, type: pause, timeout: 20s}\n");
    const r = await launch(SYSTEM_NODE, ["run", dir], (child, stderr) => {
      waitFor("the pause", () => /press Enter/.test(stderr()) && children(child.pid!)).then(
        (kids) => process.kill(kids[0]!, "SIGKILL"),
        () => child.kill("SIGKILL"),
      );
    });
    assert.equal(r.signal, "SIGKILL");
  });
});

describe("the launcher under Node 24", () => {
  test("imports kiln in-process (no second Node) with the same arguments and exit code", async () => {
    const dir = repo("steps:\n  - {name: who, run: 'echo parent=$PPID; exit 3'}\n");
    let pid = 0;
    const r = await launch(process.execPath, ["run", dir], (child) => {
      pid = child.pid!;
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /step "who" failed with exit code 3/);
    // The step's shell is a child of the launcher's own process.
    assert.match(r.stdout, new RegExp(`^who \\| parent=${pid}$`, "m"));
  });

  test("the name it is invoked by picks the command; an unknown one is an error (exit 2)", async () => {
    const dir = tempDir();
    symlinkSync(LAUNCHER, join(dir, "kiln"));
    symlinkSync(LAUNCHER, join(dir, "kubectl-kiln"));
    symlinkSync(LAUNCHER, join(dir, "kubectl-nope"));
    for (const name of ["kiln", "kubectl-kiln"]) {
      const r = await launch(process.execPath, ["--help"], undefined, join(dir, name));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Usage: kiln <command>/);
    }
    const nope = await launch(process.execPath, ["--help"], undefined, join(dir, "kubectl-nope"));
    assert.equal(nope.code, 2);
    assert.match(nope.stderr, /no command is called "kubectl-nope" \(known: kiln, kubectl-kiln\)/);
  });
});
