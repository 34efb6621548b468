// Log shipping through the real pump (worker thread, FIFOs, the runner under dash) against scripted stores:
// a slow store gets every byte (the step waits for it: back-pressure), a store that is down never holds the
// step up (its bounded buffer drops the oldest output, with a note), and logs complete in step order.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { LogAppendAnswer, StepRef } from "../api/store-protocol.ts";
import { silentLogger } from "../lib/log.ts";
import { type StoreClient, StoreError } from "../lib/store-client.ts";
import { podDirs, startRunner } from "../test/agent/pod-harness.ts";
import { RunnerLink } from "./runner-link.ts";
import { AGENT_BUFFER_BYTES, StepLogs, type StepLogsOptions } from "./step-logs.ts";

/** Keeps each step's log; `delayMs` per append, or `down` (every append fails as unreachable). */
class ScriptedStore {
  logs = new Map<string, { bytes: Buffer[]; length: number; complete: boolean }>();
  completions: string[] = [];
  readonly delayMs: number;
  down: boolean;
  constructor(delayMs: number, down = false) {
    this.delayMs = delayMs;
    this.down = down;
  }
  async append(
    ref: StepRef,
    offset: number,
    bytes: Uint8Array,
    options: { complete?: boolean; signal?: AbortSignal } = {},
  ): Promise<LogAppendAnswer> {
    // As the real client: an aborted request (the appender's deadline) ends at once.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.delayMs);
      options.signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new Error("aborted"));
      });
    });
    if (this.down) throw new StoreError("connect ECONNREFUSED", undefined, true);
    const log = this.logs.get(ref.step) ?? { bytes: [], length: 0, complete: false };
    assert.equal(offset, log.length, "appends come in order, each at the length acknowledged");
    log.bytes.push(Buffer.from(bytes));
    log.length += bytes.length;
    if (options.complete) {
      log.complete = true;
      this.completions.push(ref.step);
    }
    this.logs.set(ref.step, log);
    return { length: log.length, complete: log.complete };
  }
  text(step: string): string {
    return Buffer.concat(this.logs.get(step)?.bytes ?? []).toString("utf8");
  }
}

async function runSteps(
  store: ScriptedStore,
  steps: Array<{ name: string; run: string }>,
  options: StepLogsOptions = {},
) {
  const dirs = await podDirs();
  const runner = startRunner(dirs, ["dash"], { captureLog: false });
  const logs = new StepLogs(
    store as unknown as StoreClient,
    { namespace: "ns", build: "b" },
    silentLogger(),
    options,
  );
  const link = new RunnerLink({ kilnDir: dirs.kilnDir, logs });
  await link.ready();
  const started = performance.now();
  for (const [i, step] of steps.entries()) {
    const r = await (await link.start(i, step, {})).exited;
    assert.equal(r.exitCode, 0);
  }
  const stepsMs = performance.now() - started;
  await logs.close(10_000);
  await link.exit(0);
  link.close();
  await runner.exited;
  dirs.cleanup();
  return { stepsMs };
}

describe("StepLogs", { timeout: 60_000 }, () => {
  test("a slow store gets every byte of a flood, in order: the step waits for it", async () => {
    // Slower than any pump (about 30 MB/s), for more than the appender's buffer holds: only waiting keeps it all.
    const store = new ScriptedStore(30);
    const mb = 3 * (AGENT_BUFFER_BYTES / 2 / (1024 * 1024));
    await runSteps(
      store,
      [
        {
          name: "flood",
          run: `yes 'a line of output, numbered by nothing' | head -c ${mb * 1024 * 1024}`,
        },
      ],
      // A loaded test machine must not pass for a stalled store here (that is the next test's case).
      { stallMs: 60_000 },
    );
    const log = store.logs.get("flood")!;
    assert.equal(log.complete, true);
    assert.equal(log.length, mb * 1024 * 1024, "nothing dropped");
    assert.ok(!store.text("flood").includes("[kiln:"));
  });

  test("a store that is down never holds the step up: the oldest output goes, with a note", async () => {
    const store = new ScriptedStore(1, true);
    const mb = 3 * (AGENT_BUFFER_BYTES / 2 / (1024 * 1024));
    const { stepsMs } = await runSteps(store, [
      { name: "flood", run: `yes 'x' | head -c ${mb * 1024 * 1024}` },
    ]);
    // Not waiting on the store: the step ran at pipe speed (well under the seconds a blocked one would take).
    assert.ok(stepsMs < 5000, `the step took ${stepsMs} ms`);
    assert.equal(store.logs.size, 0);
  });

  test("a store that takes appends but never answers: after the stall time the step no longer waits", async () => {
    const store = new ScriptedStore(600_000);
    const mb = 3 * (AGENT_BUFFER_BYTES / 2 / (1024 * 1024));
    const { stepsMs } = await runSteps(
      store,
      [{ name: "flood", run: `yes 'x' | head -c ${mb * 1024 * 1024}` }],
      {
        stallMs: 300,
      },
    );
    assert.ok(stepsMs < 5000, `the step took ${stepsMs} ms`);
  });

  test("logs complete in step order, whatever their sizes", async () => {
    const store = new ScriptedStore(2);
    await runSteps(store, [
      { name: "big", run: "yes 'big step line' | head -c 600000" },
      { name: "small", run: "echo small" },
      { name: "empty", run: "true" },
      { name: "last", run: "printf 'no newline'" },
    ]);
    assert.deepEqual(store.completions, ["big", "small", "empty", "last"]);
    assert.equal(store.text("small"), "small\n");
    assert.equal(store.text("empty"), "");
    assert.equal(store.text("last"), "no newline");
    assert.equal(store.logs.get("big")!.length, 600000);
  });
});
