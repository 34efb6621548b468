// `kiln run` end to end: the real CLI on a sample repository in a temporary directory.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { gone } from "./processes.ts";

const KILN = join(import.meta.dirname, "../../bin/kiln.ts");
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sampleRepo(manifest: string): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-run-"));
  dirs.push(dir);
  writeFileSync(join(dir, ".kiln.yaml"), manifest);
  return dir;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kilnRun(
  args: string[],
  onStart?: (child: ReturnType<typeof spawn>) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KILN, "run", ...args], { stdio: ["ignore", "pipe", "pipe"], env });
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
      reject(new Error(`kiln run did not finish\n${stdout}\n${stderr}`));
    }, 20_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    onStart?.(child);
  });
}

/** Running (a zombie waiting for init to reap it is not). */

async function waitForFile(path: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} did not appear`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pids(dir: string): number[] {
  return readFileSync(join(dir, "pids"), "utf8").trim().split(/\s+/).map(Number);
}

// A step that leaves a background sleep and records both pids; a `trap '' TERM` variant needs KILL.
const SLOW_STEP = `echo $$ >> pids; sleep 30 & echo $! >> pids; echo started; wait`;

describe("kiln run", () => {
  test("runs the steps with prefixed output and a summary table; exit 0", async () => {
    const dir = sampleRepo(`image: node:24
env: {GREETING: hello}
steps:
  - {name: build, run: "echo $GREETING from $KILN_STEP; echo to-stderr >&2; echo made > artifact"}
  - {name: test, run: "test -f artifact && echo CI=$CI"}
  - {name: deploy, run: echo deploying, when: {branches: [main]}}
`);
    const r = await kilnRun([dir, "--branch", "feature/x"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^build\s+\| hello from build$/m);
    assert.match(r.stdout, /^build\s+\| to-stderr$/m);
    assert.match(r.stdout, /^test\s+\| CI=true$/m);
    assert.doesNotMatch(r.stdout, /deploying/);
    assert.match(r.stderr, /image node:24 is ignored: steps run in your shell/);
    assert.match(r.stderr, /^STEP\s+STATUS\s+DURATION$/m);
    assert.match(r.stderr, /^build\s+Succeeded\s+\d+ms$/m);
    assert.match(r.stderr, /^deploy\s+Skipped$/m);
  });

  test("says what a pod would do differently: unset secrets, services, user", async () => {
    const dir = sampleRepo(`image: node:24
user: 1000
services: [{name: db, image: postgres:17}]
cache: {key: npm, paths: [node_modules]}
secrets: [{env: NPM_TOKEN, secretRef: {name: npm, key: token}}]
steps:
  - {name: a, run: 'true'}
`);
    const { NPM_TOKEN: _, ...env } = process.env;
    const r = await kilnRun([dir, "--cache-dir", join(dir, ".cache")], undefined, env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^kiln run: cache: miss \(npm-[0-9a-f]{32}\)$/m);
    assert.match(
      r.stderr,
      /^kiln run: secrets: NPM_TOKEN is not set in kiln run's environment, so it stays unset in the steps \(secrets come from variables of the same name: NPM_TOKEN=… kiln run\)$/m,
    );
    assert.match(
      r.stderr,
      /^kiln run: services are not started \(db\): start them yourself, or use --image$/m,
    );
    assert.match(r.stderr, /^kiln run: user: is ignored: steps run as you$/m);
  });

  test("secrets come from kiln run's environment, masked in the output; an unset one is said once", async () => {
    const token = "tok-3xyz-s3cret";
    const dir = sampleRepo(`secrets:
  - {env: NPM_TOKEN, secretRef: {name: npm, key: token}}
  - {env: NOT_SET_HERE, secretRef: {name: other, key: k}}
steps:
  - name: show
    run: |
      echo "token=$NPM_TOKEN"
      printf '%s' "$NPM_TOKEN" | head -c 7; sleep 0.2; printf '%s\\n' "$NPM_TOKEN" | tail -c +8
      echo "other: \${NOT_SET_HERE-unset}"
      echo "on stderr: $NPM_TOKEN" >&2
      exit 3
`);
    const { NOT_SET_HERE: _, ...env } = process.env;
    const r = await kilnRun([dir], undefined, { ...env, NPM_TOKEN: token });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^show \| token=\*\*\*$/m);
    assert.match(r.stdout, /^show \| \*\*\*$/m, "a value printed in two writes is masked whole");
    assert.match(r.stdout, /^show \| other: unset$/m);
    assert.match(r.stdout, /^show \| on stderr: \*\*\*$/m);
    assert.ok(!`${r.stdout}${r.stderr}`.includes("3xyz"), `${r.stdout}\n${r.stderr}`);
    assert.equal(r.stderr.match(/NOT_SET_HERE is not set/g)?.length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /NPM_TOKEN is not set/);
  });

  test("cache: the second run restores what the first saved; a changed lock file misses; only successes save", async () => {
    const dir = sampleRepo(`cache: {key: npm, paths: [node_modules, /root/.npm], files: [package-lock.json]}
steps:
  - name: install
    run: |
      if [ -f node_modules/x ]; then echo "found $(cat node_modules/x)"; else echo absent; mkdir -p node_modules; echo "$RUN" > node_modules/x; fi
      test "$FAIL" != yes
`);
    writeFileSync(join(dir, "package-lock.json"), "v1");
    const cacheDir = join(dir, ".kiln-cache");
    const run = (n: string, fail = "no", where = cacheDir) => {
      rmSync(join(dir, "node_modules"), { recursive: true, force: true }); // a fresh checkout
      return kilnRun([dir, "--branch", "main", "--cache-dir", where], undefined, {
        ...process.env,
        RUN: n,
        FAIL: fail,
      });
    };
    const first = await run("1");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^install \| absent$/m);
    assert.match(first.stderr, /^kiln run: cache: miss \(npm-[0-9a-f]{32}\)$/m);
    assert.match(first.stderr, /^kiln run: cache: saved npm-[0-9a-f]{32} \(/m);
    assert.match(
      first.stderr,
      /^kiln run: cache: paths outside the workspace are your machine's own in your shell/m,
    );

    const second = await run("2");
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^install \| found 1$/m, "restored before the first step");
    assert.match(second.stderr, /^kiln run: cache: restored npm-[0-9a-f]{32} \(exact, /m);
    assert.match(second.stderr, /^kiln run: cache: not saved \(npm-[0-9a-f]{32} was restored exactly\)$/m);

    writeFileSync(join(dir, "package-lock.json"), "v2");
    const failed = await run("3", "yes");
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /^install \| found 1$/m, "the newest npm- cache of the branch");
    assert.match(failed.stderr, /^kiln run: cache: restored npm-[0-9a-f]{32} \(fallback from branch main, /m);
    assert.doesNotMatch(failed.stderr, /cache: saved/, "a failed run saves nothing");

    const other = await run("4", "no", join(dir, ".elsewhere"));
    assert.match(other.stderr, /^kiln run: cache: miss /m, "another cache dir has none");
  });

  test("a failing step stops the pipeline and is named with its exit code; exit 1", async () => {
    const dir = sampleRepo(`steps:
  - {name: ok, run: "true"}
  - {name: unit-tests, run: "echo failing; exit 3"}
  - {name: after, run: echo never}
`);
    const r = await kilnRun([dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /step "unit-tests" failed with exit code 3/);
    assert.match(r.stderr, /^unit-tests\s+Failed \(exit 3\)/m);
    assert.match(r.stderr, /^after\s+Skipped$/m);
    assert.doesNotMatch(r.stdout, /never/);
  });

  test("sh -e: a failing command in the middle of a script fails the step", async () => {
    const dir = sampleRepo(`steps:\n  - {name: s, run: "false\\necho not reached"}\n`);
    const r = await kilnRun([dir]);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stdout, /not reached/);
  });

  test("an invalid manifest exits 2 with located errors; so does bad usage", async () => {
    const dir = sampleRepo("stpes:\n  - {name: a, run: x}\n");
    const r = await kilnRun([dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\.kiln\.yaml:1:1: unknown key "stpes"; did you mean "steps"\?/);
    assert.equal((await kilnRun([dir, "--nope"])).code, 2);
    assert.equal((await kilnRun([join(dir, "missing")])).code, 2);
  });

  test("a step timeout kills the step's whole process group: no process is left", async () => {
    const dir = sampleRepo(
      `steps:\n  - {name: slow, run: "${SLOW_STEP}", timeout: 1s}\n  - {name: after, run: echo never}\n`,
    );
    const r = await kilnRun([dir, "--grace", "500ms"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /step "slow" timed out/);
    assert.match(r.stderr, /^slow\s+TimedOut/m);
    for (const pid of pids(dir)) assert.ok(await gone(pid), `process ${pid} survived`);
  });

  test("the overall timeout escalates to KILL when TERM is ignored", async () => {
    const dir = sampleRepo(`timeout: 1s\nsteps:\n  - {name: stubborn, run: "trap '' TERM; ${SLOW_STEP}"}\n`);
    const r = await kilnRun([dir, "--grace", "300ms"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^stubborn\s+TimedOut/m);
    for (const pid of pids(dir)) assert.ok(await gone(pid), `process ${pid} survived`);
  });

  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    test(`${signal} cancels the running step and leaves no process`, async () => {
      const dir = sampleRepo(`steps:\n  - {name: slow, run: "${SLOW_STEP}"}\n`);
      const r = await kilnRun([dir, "--grace", "500ms"], (child) => {
        waitForFile(join(dir, "pids")).then(
          () => setTimeout(() => child.kill(signal), 100),
          () => child.kill("SIGKILL"),
        );
      });
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /cancelled during step "slow"/);
      assert.match(r.stderr, /^slow\s+Cancelled/m);
      for (const pid of pids(dir)) assert.ok(await gone(pid), `process ${pid} survived`);
    });
  }

  test("background processes a successful step leaves behind are stopped with it", async () => {
    const dir = sampleRepo(`steps:\n  - {name: bg, run: "sleep 30 >/dev/null 2>&1 & echo $! > pids"}\n`);
    const r = await kilnRun([dir]);
    assert.equal(r.code, 0, r.stderr);
    for (const pid of pids(dir)) assert.ok(await gone(pid), `process ${pid} survived`);
  });

  test("a pause step waits for SIGUSR1 (or Enter on a terminal), then the pipeline goes on", async () => {
    const dir = sampleRepo(
      `steps:\n  - {name: look, type: pause, timeout: 20s}\n  - {name: after, run: echo after-pause}\n`,
    );
    let stderr = "";
    let sent = false;
    const r = await kilnRun([dir], (child) => {
      child.stderr!.on("data", (d) => {
        stderr += d;
        if (/press Enter \(or kill -USR1 \d+\)/.test(stderr) && !sent) sent = child.kill("SIGUSR1");
      });
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /after-pause/);
    assert.match(r.stderr, /^look\s+Succeeded/m);
  });

  test("a pause ends by itself at its deadline", async () => {
    const dir = sampleRepo(
      `steps:\n  - {name: look, type: pause, timeout: 300ms}\n  - {name: after, run: 'true'}\n`,
    );
    const r = await kilnRun([dir]);
    assert.equal(r.code, 0, r.stderr);
  });

  test("--pause-on-failure pauses at the failed step; the run still fails", async () => {
    const dir = sampleRepo(`steps:\n  - {name: broken, run: exit 9}\n`);
    let stderr = "";
    let sent = false;
    const r = await kilnRun([dir, "--pause-on-failure"], (child) => {
      child.stderr!.on("data", (d) => {
        stderr += d;
        if (/Step broken failed with exit code 9\. Paused/.test(stderr) && !sent)
          sent = child.kill("SIGUSR1");
      });
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /step "broken" failed with exit code 9/);
  });
});
