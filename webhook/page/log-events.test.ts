import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, test } from "node:test";
import type { Build } from "../../api/build.ts";
import type { StepRef } from "../../api/store-protocol.ts";
import { sampleBuild } from "../../test/fixtures/build.ts";
import { type LogEvent, type LogStore, logEvents, parsePosition, wholeUtf8 } from "./log-events.ts";

/** The store's logs in memory, followed as the store follows them: what is there, then appends, until complete. */
class MemoryLogs implements LogStore {
  readonly logs = new Map<string, { bytes: Buffer; complete: boolean }>();
  readonly #grew = new EventEmitter();

  append(step: string, text: string | Buffer, complete = false): void {
    const log = this.logs.get(step) ?? { bytes: Buffer.alloc(0), complete: false };
    log.bytes = Buffer.concat([log.bytes, Buffer.from(text)]);
    log.complete = complete;
    this.logs.set(step, log);
    this.#grew.emit("grew");
  }

  async steps() {
    return [...this.logs].map(([step, l]) => ({
      step,
      length: l.bytes.length,
      complete: l.complete,
      created: "",
      updated: "",
    }));
  }

  async *followLog(ref: StepRef, options: { offset?: number; signal?: AbortSignal } = {}) {
    let at = options.offset ?? 0;
    for (;;) {
      const log = this.logs.get(ref.step)!;
      if (log.bytes.length > at) {
        const chunk = log.bytes.subarray(at);
        at = log.bytes.length;
        yield chunk;
        continue;
      }
      if (log.complete || options.signal?.aborted) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#grew.off("grew", done);
          options.signal?.removeEventListener("abort", done);
          resolve();
        };
        this.#grew.on("grew", done);
        options.signal?.addEventListener("abort", done);
      });
    }
  }
}

function world(initial: Build) {
  let current: Build | undefined = initial;
  const changes = new EventEmitter();
  return {
    set(b: Build | undefined) {
      current = b;
      changes.emit("change");
    },
    deps(store: LogStore) {
      return {
        store,
        build: () => current,
        changed: (ms: number, signal: AbortSignal) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(done, ms);
            function done() {
              clearTimeout(timer);
              changes.off("change", done);
              signal.removeEventListener("abort", done);
              resolve();
            }
            changes.on("change", done);
            signal.addEventListener("abort", done);
          }),
        graceMs: 50,
        pollMs: 5_000,
      };
    },
  };
}

const steps = (
  ...list: [
    string,
    NonNullable<Build["status"]>["steps"] extends (infer S)[] | undefined
      ? S extends { phase: infer P }
        ? P
        : never
      : never,
  ][]
) => list.map(([name, phase]) => ({ name, phase }));

async function take(events: AsyncGenerator<LogEvent>, until: (e: LogEvent) => boolean): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  for await (const e of events) {
    out.push(e);
    if (until(e)) break;
  }
  return out;
}

describe("a build's log as events", () => {
  test("a finished build: each step's whole log in step order, steps without a log skipped, then the end", async () => {
    const store = new MemoryLogs();
    store.append("build", "compiling\n", true);
    store.append("test", "ok 1\nnot ok 2\n", true);
    const b = sampleBuild({
      status: {
        phase: "Failed",
        steps: steps(["build", "Succeeded"], ["lint", "Skipped"], ["test", "Failed"]),
      },
    });
    const events = await take(
      logEvents(
        world(b).deps(store),
        { namespace: "ci", build: "b" },
        { step: 0, offset: 0 },
        new AbortController().signal,
      ),
      () => false,
    );
    assert.deepEqual(events, [
      { type: "log", step: 0, name: "build", text: "compiling\n", position: { step: 0, offset: 10 } },
      { type: "log", step: 2, name: "test", text: "ok 1\nnot ok 2\n", position: { step: 2, offset: 14 } },
      { type: "end", phase: "Failed", reason: "the build finished" },
    ]);
  });

  test("a running build: lines appended while it is followed come as they come; a step that starts later is picked up", async () => {
    const store = new MemoryLogs();
    store.append("build", "one\n");
    const w = world(sampleBuild({ status: { phase: "Running", steps: steps(["build", "Running"]) } }));
    const events = logEvents(
      w.deps(store),
      { namespace: "ci", build: "b" },
      { step: 0, offset: 0 },
      new AbortController().signal,
    );
    assert.deepEqual(((await events.next()).value as { text: string }).text, "one\n");
    store.append("build", "two\n", true);
    assert.deepEqual(((await events.next()).value as { text: string }).text, "two\n");
    const next = events.next();
    w.set(
      sampleBuild({
        status: { phase: "Running", steps: steps(["build", "Succeeded"], ["test", "Running"]) },
      }),
    );
    store.append("test", "testing\n");
    assert.deepEqual((await next).value, {
      type: "log",
      step: 1,
      name: "test",
      text: "testing\n",
      position: { step: 1, offset: 8 },
    });
    const end = events.next();
    // The build ends with the last log never completed (an agent gone): followed for the grace period, then the end.
    w.set(
      sampleBuild({ status: { phase: "Errored", steps: steps(["build", "Succeeded"], ["test", "Failed"]) } }),
    );
    assert.deepEqual((await end).value, { type: "end", phase: "Errored", reason: "the build finished" });
  });

  test("a reconnect resumes at its last position; a character split across appends arrives whole", async () => {
    const store = new MemoryLogs();
    const euro = Buffer.from("€"); // three bytes
    store.append("build", Buffer.concat([Buffer.from("a"), euro.subarray(0, 1)]));
    const w = world(sampleBuild({ status: { phase: "Running", steps: steps(["build", "Running"]) } }));
    const events = logEvents(
      w.deps(store),
      { namespace: "ci", build: "b" },
      { step: 0, offset: 0 },
      new AbortController().signal,
    );
    assert.deepEqual((await events.next()).value, {
      type: "log",
      step: 0,
      name: "build",
      text: "a",
      position: { step: 0, offset: 1 },
    });
    const next = events.next();
    store.append("build", Buffer.concat([euro.subarray(1), Buffer.from("b")]), true);
    assert.deepEqual((await next).value, {
      type: "log",
      step: 0,
      name: "build",
      text: "€b",
      position: { step: 0, offset: 5 },
    });
    w.set(sampleBuild({ status: { phase: "Succeeded", steps: steps(["build", "Succeeded"]) } }));
    const resumed = await take(
      logEvents(
        w.deps(store),
        { namespace: "ci", build: "b" },
        parsePosition("0:1"),
        new AbortController().signal,
      ),
      () => false,
    );
    assert.deepEqual(
      resumed.map((e) => (e.type === "log" ? e.text : e.type)),
      ["€b", "end"],
    );
  });

  test("a deleted Build ends the events; an abort ends them quietly", async () => {
    const store = new MemoryLogs();
    const w = world(sampleBuild({ status: { phase: "Running", steps: steps(["build", "Running"]) } }));
    const abort = new AbortController();
    const events = logEvents(
      w.deps(store),
      { namespace: "ci", build: "b" },
      { step: 0, offset: 0 },
      abort.signal,
    );
    w.set(undefined);
    assert.deepEqual((await events.next()).value, {
      type: "end",
      phase: "Gone",
      reason: "the Build was deleted",
    });
    store.append("build", "x");
    const w2 = world(sampleBuild({ status: { phase: "Running", steps: steps(["build", "Running"]) } }));
    const second = logEvents(
      w2.deps(store),
      { namespace: "ci", build: "b" },
      { step: 0, offset: 1 },
      abort.signal,
    );
    const pending = second.next();
    abort.abort();
    assert.equal((await pending).done, true);
  });
});

describe("positions and UTF-8", () => {
  test("Last-Event-ID parses as step:offset, anything else is the start", () => {
    assert.deepEqual(parsePosition("2:4096"), { step: 2, offset: 4096 });
    for (const bad of [undefined, "", "x", "1:", "-1:3", "1:2:3"])
      assert.deepEqual(parsePosition(bad), { step: 0, offset: 0 });
  });
  test("a chunk ending inside a character keeps it back", () => {
    const text = Buffer.from("a€😀");
    assert.equal(wholeUtf8(text), text.length);
    assert.equal(wholeUtf8(text.subarray(0, 2)), 1, "€'s first byte");
    assert.equal(wholeUtf8(text.subarray(0, 3)), 1, "€'s first two bytes");
    assert.equal(wholeUtf8(text.subarray(0, 4)), 4);
    assert.equal(wholeUtf8(text.subarray(0, 7)), 4, "three bytes of the four of 😀");
    assert.equal(wholeUtf8(Buffer.alloc(0)), 0);
  });
});
