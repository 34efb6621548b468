// Pod mode without a cluster: the runner (under dash and under busybox sh) and the agent complete
// pipelines through a shared temporary directory; status patches are captured in memory.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { runAgent } from "../../agent/agent-command.ts";
import type { ResumeSignal } from "../../agent/pod-pauser.ts";
import type { StepStatus } from "../../api/build.ts";
import { MANIFEST_STEP } from "../../api/pod-protocol.ts";
import { silentLogger } from "../../lib/log.ts";
import { agentConfig, podDirs, SHELLS, startPod } from "./pod-harness.ts";
import { gone } from "./processes.ts";

/** Captures every merge patch body; `last()` is what Build.status.steps would hold. */
function recorder() {
  const patches: StepStatus[][] = [];
  const waiters: { pred: (s: StepStatus[]) => boolean; resolve: () => void }[] = [];
  return {
    patches,
    last: () => patches.at(-1) ?? [],
    patch: async (body: { status: { steps: StepStatus[] } }) => {
      patches.push(body.status.steps);
      for (const w of waiters.filter((w) => w.pred(body.status.steps))) w.resolve();
    },
    until(pred: (s: StepStatus[]) => boolean, ms = 10_000): Promise<void> {
      if (patches.length && pred(patches.at(-1)!)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`status never matched; last: ${JSON.stringify(patches.at(-1))}`)),
          ms,
        );
        waiters.push({
          pred,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
  };
}

for (const shell of SHELLS) {
  describe(`pod mode, runner under ${shell.name}`, () => {
    test("a pipeline runs step by step; output reaches the build log; each step is recorded", async (t) => {
      const { dirs, runner } = await startPod(
        t,
        `env: {GREETING: "it's kiln"}
steps:
  - {name: compile, run: "echo $GREETING in $PWD; echo oops >&2; echo built > out.txt"}
  - {name: test, run: "test \\"$(cat out.txt)\\" = built; echo KILN_STEP=$KILN_STEP CI=$CI"}
  - {name: release-only, run: echo never, when: {branches: ["release/*"]}}
  - {name: fail, run: "echo failing; exit 7"}
  - {name: after, run: echo never}
`,
        shell.argv,
      );
      const status = recorder();
      const code = await runAgent(agentConfig(dirs), { log: silentLogger(), patch: status.patch });
      assert.equal(code, 1);
      assert.equal(await runner.exited, 1, "the build container exits with the agent's code");
      const steps = status.last();
      assert.deepEqual(
        steps.map((s) => [s.name, s.phase, s.exitCode]),
        [
          ["compile", "Succeeded", 0],
          ["test", "Succeeded", 0],
          ["release-only", "Skipped", undefined],
          ["fail", "Failed", 7],
          ["after", "Skipped", undefined],
        ],
      );
      for (const s of steps.slice(0, 2))
        assert.ok(s.startTime && s.completionTime && s.completionTime >= s.startTime);
      assert.match(steps[3]!.message ?? "", /exited with code 7; last output:\nfailing/);
      assert.ok(
        status.patches.some((p) => p[0]?.phase === "Running"),
        "a Running record was sent",
      );
      const log = runner.log();
      assert.match(log, /==> compile\nit's kiln in .*workspace\noops\n/);
      assert.match(log, /KILN_STEP=test CI=true/);
      assert.doesNotMatch(log, /never/);
    });

    test("a step timeout stops the step's process group in the build container", async (t) => {
      const { dirs, runner } = await startPod(
        t,
        `steps:
  - {name: slow, run: "echo $$ > pids; sleep 30 & echo $! >> pids; wait", timeout: 500ms}
`,
        shell.argv,
      );
      const status = recorder();
      const code = await runAgent(agentConfig(dirs), {
        log: silentLogger(),
        patch: status.patch,
        graceMs: 500,
      });
      assert.equal(code, 1);
      await runner.exited;
      assert.equal(status.last()[0]?.phase, "TimedOut");
      assert.match(status.last()[0]?.message ?? "", /the step ran out of time \(500ms\)/);
      const pids = readFileSync(join(dirs.workspace, "pids"), "utf8").trim().split("\n").map(Number);
      for (const pid of pids) assert.ok(await gone(pid), `process ${pid} survived`);
    });

    test("a pause step keeps the runner alive until /kiln/resume is touched", async (t) => {
      const { dirs, runner } = await startPod(
        t,
        `steps:
  - {name: before, run: echo before}
  - {name: look-around, type: pause, timeout: 20s}
  - {name: after, run: test -f touched-while-paused}
`,
        shell.argv,
      );
      const status = recorder();
      const done = runAgent(agentConfig(dirs), { log: silentLogger(), patch: status.patch });
      await status.until((s) => s[1]?.phase === "Paused");
      const paused = status.last()[1]!;
      assert.match(paused.message ?? "", /kubectl exec -it api-main-1-pod -c build -n ci -- sh/);
      assert.match(paused.message ?? "", /touch \/kiln\/resume/);
      assert.equal(runner.child.exitCode, null, "the build container is still up");
      // What a developer does in `kubectl exec`: look around, change something, resume.
      writeFileSync(join(dirs.workspace, "touched-while-paused"), "");
      writeFileSync(join(dirs.kilnDir, "resume"), "");
      assert.equal(await done, 0);
      assert.deepEqual(
        status.last().map((s) => [s.name, s.phase]),
        [
          ["before", "Succeeded"],
          ["look-around", "Succeeded"],
          ["after", "Succeeded"],
        ],
      );
      assert.equal(await runner.exited, 0);
    });
  });
}

describe("pod mode: pauses, deadlines and errors", () => {
  const shell = SHELLS[0]!.argv;

  test("pauseOnFailure pauses at the failed step; a resume signal ends the build as Failed", async (t) => {
    const { dirs, runner } = await startPod(
      t,
      "steps:\n  - {name: flaky, run: exit 4}\n  - {name: after, run: echo never}\n",
      shell,
    );
    const status = recorder();
    let release: () => void = () => undefined;
    const resume: ResumeSignal = {
      current: async () => "1",
      changed: (baseline, abort) =>
        new Promise((resolve) => {
          assert.equal(baseline, "1");
          release = resolve;
          abort.addEventListener("abort", () => resolve());
        }),
    };
    const done = runAgent(agentConfig(dirs, { pauseOnFailure: true }), {
      log: silentLogger(),
      patch: status.patch,
      resume,
    });
    await status.until((s) => s[0]?.phase === "Paused");
    assert.equal(status.last()[0]?.exitCode, 4);
    assert.match(
      status.last()[0]?.message ?? "",
      /^Step flaky failed with exit code 4\. Debug with: kubectl exec/,
    );
    release();
    assert.equal(await done, 1);
    assert.deepEqual(
      status.last().map((s) => [s.name, s.phase, s.exitCode]),
      [
        ["flaky", "Failed", 4],
        ["after", "Skipped", undefined],
      ],
    );
    await runner.exited;
  });

  test("a pause ends by itself at its deadline and the pipeline goes on", async (t) => {
    const { dirs, runner } = await startPod(
      t,
      "steps:\n  - {name: wait, type: pause, timeout: 300ms}\n  - {name: after, run: 'true'}\n",
      shell,
    );
    const status = recorder();
    assert.equal(await runAgent(agentConfig(dirs), { log: silentLogger(), patch: status.patch }), 0);
    assert.match(status.last()[0]?.message ?? "", /pause ended at its deadline/);
    await runner.exited;
  });

  test("cancelling (SIGTERM to the agent) stops the running step and records Cancelled", async (t) => {
    const { dirs, runner } = await startPod(t, "steps:\n  - {name: long, run: sleep 30}\n", shell);
    const status = recorder();
    const cancel = new AbortController();
    const done = runAgent(agentConfig(dirs), {
      log: silentLogger(),
      patch: status.patch,
      cancel: cancel.signal,
      graceMs: 500,
    });
    await status.until((s) => s[0]?.phase === "Running");
    cancel.abort();
    assert.equal(await done, 130);
    assert.equal(status.last()[0]?.phase, "Cancelled");
    assert.equal(await runner.exited, 130);
  });

  test("an invalid manifest is recorded as a failed .kiln.yaml step with the located error", async (t) => {
    const { dirs, runner } = await startPod(t, "stpes:\n  - {name: a, run: x}\n", shell);
    const status = recorder();
    assert.equal(await runAgent(agentConfig(dirs), { log: silentLogger(), patch: status.patch }), 2);
    assert.equal(status.last()[0]?.name, MANIFEST_STEP);
    assert.equal(status.last()[0]?.phase, "Failed");
    assert.match(
      status.last()[0]?.message ?? "",
      /\.kiln\.yaml:1:1: unknown key "stpes"; did you mean "steps"\?/,
    );
    assert.equal(await runner.exited, 2);
    assert.match(runner.log(), /did you mean "steps"/);
  });

  test("the agent notices a build container that dies in the middle of a step", async (t) => {
    const { dirs, runner } = await startPod(t, "steps:\n  - {name: long, run: sleep 30}\n", shell);
    const status = recorder();
    const done = runAgent(agentConfig(dirs), { log: silentLogger(), patch: status.patch });
    await status.until((s) => s[0]?.phase === "Running");
    runner.killAll();
    assert.equal(await done, 1);
    assert.equal(status.last()[0]?.phase, "Failed");
    assert.equal(status.last()[0]?.exitCode, 125);
    assert.match(status.last()[0]?.message ?? "", /runner went away/);
  });

  test("a cancelled agent does not wait for a build container that never started", async (t) => {
    const dirs = await podDirs("steps:\n  - {name: a, run: 'true'}\n");
    t.after(dirs.cleanup);
    const status = recorder();
    const cancel = new AbortController();
    const done = runAgent(agentConfig(dirs), {
      log: silentLogger(),
      patch: status.patch,
      cancel: cancel.signal,
    });
    setTimeout(() => cancel.abort(), 100);
    assert.equal(await done, 130);
    assert.deepEqual(
      status.last().map((s) => [s.name, s.phase]),
      [["a", "Cancelled"]],
    );
  });

  test("secrets: the steps have them; the log and the step records show *** instead", async (t) => {
    const token = "s3cr3t-t0ken";
    const key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkq\n-----END KEY-----\n";
    const { dirs, runner } = await startPod(
      t,
      `secrets:
  - {env: NPM_TOKEN, secretRef: {name: npm, key: token}}
  - {env: DEPLOY_KEY, secretRef: {name: deploy, key: key}}
steps:
  # The token in two writes with a pause between: two reads of the pump, one value.
  - {name: print, run: "echo \\"token=$NPM_TOKEN\\"; printf 's3cr3t'; sleep 0.2; printf -- '-t0ken\\\\n'; echo \\"$DEPLOY_KEY\\""}
  - {name: fail, run: "echo \\"again $NPM_TOKEN\\"; grep MII <<EOF\\n$DEPLOY_KEY\\nEOF\\nexit 3"}
`,
      shell,
      { NPM_TOKEN: token, DEPLOY_KEY: key },
    );
    const secretsDir = join(dirs.base, "secrets");
    mkdirSync(secretsDir);
    writeFileSync(join(secretsDir, "NPM_TOKEN"), token);
    writeFileSync(join(secretsDir, "DEPLOY_KEY"), key);
    const status = recorder();
    const code = await runAgent(agentConfig(dirs, { secretsDir }), {
      log: silentLogger(),
      patch: status.patch,
    });
    assert.equal(code, 1);
    await runner.exited;
    const log = runner.log();
    assert.match(log, /==> print\ntoken=\*\*\*\n\*\*\*\n\*\*\*\n/);
    assert.match(log, /again \*\*\*\n\*\*\*\n/);
    const failed = status.last()[1]!;
    assert.equal(failed.phase, "Failed");
    assert.match(failed.message ?? "", /again \*\*\*\n\*\*\*/);
    for (const leak of [token, "s3cr3t", "MIIEvQIBADANBgkq"]) {
      assert.ok(!log.includes(leak), `${leak} in the log:\n${log}`);
      assert.ok(!JSON.stringify(status.patches).includes(leak), `${leak} in a step record`);
    }
  });

  test("secrets: one the agent cannot read fails the build before any step, naming it", async (t) => {
    const { dirs, runner } = await startPod(
      t,
      "secrets:\n  - {env: NPM_TOKEN, secretRef: {name: npm, key: token}}\nsteps:\n  - {name: a, run: echo ran}\n",
      shell,
    );
    const status = recorder();
    const code = await runAgent(agentConfig(dirs), { log: silentLogger(), patch: status.patch });
    assert.equal(code, 2);
    assert.equal(await runner.exited, 2);
    assert.deepEqual(
      status.last().map((s) => [s.name, s.phase]),
      [[MANIFEST_STEP, "Failed"]],
    );
    assert.match(
      status.last()[0]!.message!,
      /^\.kiln\.yaml: secrets\[0\] \(NPM_TOKEN\): key "token" of Secret "npm" could not be read \(ENOENT\).*No step ran\.$/,
    );
    assert.doesNotMatch(runner.log(), /==> a/);
  });

  test("secrets: a fork's build reads none and runs (the pod gives it none)", async (t) => {
    const { dirs, runner } = await startPod(
      t,
      `secrets:\n  - {env: NPM_TOKEN, secretRef: {name: npm, key: token}}\nsteps:\n  - {name: a, run: 'echo "set: \${NPM_TOKEN+yes}"'}\n`,
      shell,
    );
    const status = recorder();
    const code = await runAgent(agentConfig(dirs, { fork: true }), {
      log: silentLogger(),
      patch: status.patch,
    });
    assert.equal(code, 0);
    await runner.exited;
    assert.match(runner.log(), /set: \n/);
  });
});
