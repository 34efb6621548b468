// Per-step overhead of the agent: 200 trivial steps through `kiln run`'s local executor and through
// the pod-mode runner (dash, FIFOs), against the same 200 commands in one plain sh script, and against
// 200 `sh -e -c true` forked from one sh (the floor: one fork/exec per step). Every figure is measured
// in the same run; medians of ROUNDS alternating rounds.
//   node bench/agent-overhead.ts
import { execFileSync } from "node:child_process";
import { Writable } from "node:stream";
import { localExecutor } from "../agent/local-executor.ts";
import type { Pipeline } from "../agent/manifest-schema.ts";
import { type Pauser, runPipeline } from "../agent/pipeline-run.ts";
import { RunnerLink } from "../agent/runner-link.ts";
import { podDirs, startRunner } from "../test/agent/pod-harness.ts";

const STEPS = 200;
const ROUNDS = 5;
const command = "true";
const pipeline: Pipeline = {
  services: [],
  env: {},
  secrets: [],
  steps: Array.from({ length: STEPS }, (_, i) => ({ name: `step-${i}`, run: command })),
};
const pauser: Pauser = { message: () => "", wait: async () => "resumed" };
const sink = new Writable({ write: (_c, _e, cb) => cb() });

function timeSync(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

async function time(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const plainScript = Array.from({ length: STEPS }, () => command).join("\n");
const forkScript = Array.from({ length: STEPS }, () => `sh -e -c ${command}`).join("\n");

async function local(): Promise<void> {
  const r = await runPipeline(pipeline, {
    executor: localExecutor({ cwd: process.cwd(), out: sink, env: process.env }),
    pauser,
  });
  if (r.outcome !== "Succeeded") throw new Error(r.outcome);
}

async function pod(): Promise<number> {
  const dirs = await podDirs();
  const runner = startRunner(dirs, ["dash"], { captureLog: false });
  const link = new RunnerLink({ kilnDir: dirs.kilnDir });
  await link.ready();
  const ms = await time(async () => {
    const r = await runPipeline(pipeline, { executor: link, pauser });
    if (r.outcome !== "Succeeded") throw new Error(r.outcome);
  });
  await link.exit(0);
  link.close();
  await runner.exited;
  dirs.cleanup();
  return ms;
}

const results: Record<string, number[]> = { plain: [], fork: [], local: [], pod: [] };
await local(); // warm up module and JIT
for (let round = 0; round < ROUNDS; round++) {
  results.plain!.push(timeSync(() => execFileSync("sh", ["-e", "-c", plainScript])));
  results.fork!.push(timeSync(() => execFileSync("sh", ["-e", "-c", forkScript])));
  results.local!.push(await time(local));
  results.pod!.push(await pod());
}
const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perStep = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v) / STEPS]));
const f = (ms: number) => `${ms.toFixed(3)} ms`;
const rows: [string, string][] = [
  ["plain sh script, 200 commands (baseline)", f(perStep.plain!)],
  ["sh forking `sh -e -c true` 200 times (fork/exec floor)", f(perStep.fork!)],
  ["agent, local mode (kiln run executor)", f(perStep.local!)],
  ["agent, pod mode (runner under dash, FIFOs)", f(perStep.pod!)],
  ["local: overhead per step over the plain script", f(perStep.local! - perStep.plain!)],
  ["pod: overhead per step over the plain script", f(perStep.pod! - perStep.plain!)],
  ["local: overhead per step over the fork floor", f(perStep.local! - perStep.fork!)],
  ["pod: overhead per step over the fork floor", f(perStep.pod! - perStep.fork!)],
  ["ratio local / plain", `${(perStep.local! / perStep.plain!).toFixed(1)}x`],
  ["ratio pod / plain", `${(perStep.pod! / perStep.plain!).toFixed(1)}x`],
  ["ratio local / fork floor", `${(perStep.local! / perStep.fork!).toFixed(2)}x`],
  ["ratio pod / fork floor", `${(perStep.pod! / perStep.fork!).toFixed(2)}x`],
];
console.log(`Per-step cost, ${STEPS} steps of \`${command}\`, median of ${ROUNDS} rounds (ms per step)\n`);
const w = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
