// The driver with a fake executor and pauser: what gets recorded, in what order, and why it ends.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { StepStatus } from "../api/build.ts";
import type { Pipeline, Step } from "./manifest-schema.ts";
import { type Executor, type Pauser, runPipeline, type StopSignal } from "./pipeline-run.ts";

function pipeline(steps: Step[], timeout?: number): Pipeline {
  return { services: [], env: { A: "pipeline" }, steps, secrets: [], ...(timeout ? { timeout } : {}) };
}

/** Each step's `run` is "<exit code>" or "hang" (runs until signalled; exits 128+15 or 128+9). */
function fakeExecutor(log: string[] = []): Executor {
  return {
    async start(_i, step, env) {
      log.push(`${step.name} A=${env.A} STEP=${env.KILN_STEP}`);
      if (step.run !== "hang") {
        const tail = step.name === "loud" ? "x".repeat(5000) : `out of ${step.name}`;
        return { exited: Promise.resolve({ exitCode: Number(step.run), tail }), signal() {} };
      }
      let exit: (code: number) => void = () => undefined;
      const exited = new Promise<{ exitCode: number; tail: string }>((r) => {
        exit = (exitCode) => r({ exitCode, tail: "" });
      });
      return {
        exited,
        signal(s: StopSignal) {
          log.push(`${step.name} got ${s}`);
          if (s === "KILL" || !step.name.includes("stubborn")) exit(s === "KILL" ? 137 : 143);
        },
      };
    },
  };
}

const neverResumes: Pauser = {
  message: ({ name, reason }) => `${reason} paused at ${name}`,
  wait: (_info, abort) => new Promise((r) => abort.addEventListener("abort", () => r("deadline"))),
};
const resumesAtOnce: Pauser = { message: () => "paused", wait: async () => "resumed" };

const phases = (steps: StepStatus[]) => steps.map((s) => [s.name, s.phase, s.exitCode]);

describe("runPipeline", () => {
  test("runs steps in order with merged env; a failure skips the rest", async () => {
    const log: string[] = [];
    const updates: StepStatus[][] = [];
    const r = await runPipeline(
      pipeline([
        { name: "a", run: "0", env: { A: "step" } },
        { name: "b", run: "0", when: { branches: ["release/*"] } },
        { name: "c", run: "2" },
        { name: "d", run: "0" },
      ]),
      {
        executor: fakeExecutor(log),
        pauser: resumesAtOnce,
        branch: "main",
        onUpdate: (s) => updates.push(s),
      },
    );
    assert.equal(r.outcome, "Failed");
    assert.deepEqual(r.failedStep, { name: "c", phase: "Failed", exitCode: 2 });
    assert.deepEqual(phases(r.steps), [
      ["a", "Succeeded", 0],
      ["b", "Skipped", undefined],
      ["c", "Failed", 2],
      ["d", "Skipped", undefined],
    ]);
    assert.deepEqual(log, ["a A=step STEP=a", "c A=pipeline STEP=c"]);
    assert.match(r.steps[2]!.message!, /exited with code 2; last output:\nout of c/);
    assert.deepEqual(
      phases(updates[0]!),
      phases(r.steps).map(([n]) => [n, "Pending", undefined]),
    );
  });

  test("a step timeout sends TERM, then KILL after the grace period", async () => {
    const log: string[] = [];
    const r = await runPipeline(pipeline([{ name: "stubborn", run: "hang", timeout: 30 }]), {
      executor: fakeExecutor(log),
      pauser: resumesAtOnce,
      graceMs: 30,
    });
    assert.equal(r.outcome, "TimedOut");
    assert.deepEqual(log.slice(1), ["stubborn got TERM", "stubborn got KILL"]);
    assert.equal(r.steps[0]!.exitCode, 137);
    assert.match(r.steps[0]!.message!, /the step ran out of time/);
  });

  test("the pipeline timeout applies across steps", async () => {
    const r = await runPipeline(
      pipeline(
        [
          { name: "a", run: "0" },
          { name: "slow", run: "hang" },
        ],
        40,
      ),
      {
        executor: fakeExecutor(),
        pauser: resumesAtOnce,
      },
    );
    assert.equal(r.outcome, "TimedOut");
    assert.match(r.steps[1]!.message!, /the pipeline ran out of time/);
  });

  test("cancel stops the running step and records Cancelled", async () => {
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(), 20);
    const r = await runPipeline(
      pipeline([
        { name: "long", run: "hang" },
        { name: "next", run: "0" },
      ]),
      {
        executor: fakeExecutor(),
        pauser: resumesAtOnce,
        cancel: cancel.signal,
      },
    );
    assert.equal(r.outcome, "Cancelled");
    assert.deepEqual(phases(r.steps), [
      ["long", "Cancelled", 143],
      ["next", "Skipped", undefined],
    ]);
  });

  test("a pause is bounded by the pipeline's timeout", async () => {
    const r = await runPipeline(pipeline([{ name: "p", type: "pause", timeout: 60_000 }], 40), {
      executor: fakeExecutor(),
      pauser: neverResumes,
    });
    assert.equal(r.outcome, "TimedOut");
    assert.equal(r.failedStep?.name, "p");
  });

  test("pauseOnFailure records Paused (with the exit code) before the final Failed", async () => {
    const updates: StepStatus[][] = [];
    const r = await runPipeline(pipeline([{ name: "t", run: "5" }]), {
      executor: fakeExecutor(),
      pauser: resumesAtOnce,
      pauseOnFailure: true,
      onUpdate: (s) => updates.push(s),
    });
    assert.equal(r.outcome, "Failed");
    const paused = updates.find((u) => u[0]?.phase === "Paused")?.[0];
    assert.equal(paused?.exitCode, 5);
    assert.equal(updates.at(-1)?.[0]?.phase, "Failed");
  });

  test("a failed step's message keeps only a short tail of its output", async () => {
    const r = await runPipeline(pipeline([{ name: "loud", run: "1" }]), {
      executor: fakeExecutor(),
      pauser: resumesAtOnce,
    });
    assert.ok(r.steps[0]!.message!.length < 1100);
    assert.match(r.steps[0]!.message!, /^exited with code 1; last output:\n…x+$/);
  });
});
