// A Build's log as a sequence of events for the page's server-sent events: each step's log in the order
// the steps ran, followed live from the store while the Build runs, then an end. Positions are
// (step index, byte offset), so a reconnecting EventSource (Last-Event-ID) picks up where it stopped.
import { type Build, isFinished, type StepStatus } from "../../api/build.ts";
import type { StepLogInfo } from "../../api/store-protocol.ts";
import type { StoreClient } from "../../lib/store-client.ts";

export type LogStore = Pick<StoreClient, "steps" | "followLog">;

export interface LogPosition {
  step: number;
  offset: number;
}

export type LogEvent =
  | { type: "log"; step: number; name: string; text: string; position: LogPosition }
  | { type: "end"; phase: string; reason: string };

export interface LogEventDeps {
  store: LogStore;
  /** The Build as the cache has it now. */
  build(): Build | undefined;
  /** Resolves when the Build changes, or after ms. */
  changed(ms: number, signal: AbortSignal): Promise<void>;
  /** How long an incomplete log is followed after its Build finished (the agent's last bytes in flight). */
  graceMs?: number;
  /** How often to look again while nothing changes (a step whose log has not started). */
  pollMs?: number;
}

/** "3:1024" → {step: 3, offset: 1024}; anything else is the start. */
export function parsePosition(id: string | undefined): LogPosition {
  const m = /^([0-9]{1,6}):([0-9]{1,15})$/.exec(id ?? "");
  return m ? { step: Number(m[1]), offset: Number(m[2]) } : { step: 0, offset: 0 };
}

/** How many leading bytes of `bytes` are whole UTF-8 characters (a chunk may end inside one). */
export function wholeUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = bytes[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

const DONE_STEP: ReadonlySet<StepStatus["phase"]> = new Set([
  "Succeeded",
  "Failed",
  "Skipped",
  "Cancelled",
  "TimedOut",
]);

export async function* logEvents(
  deps: LogEventDeps,
  ref: { namespace: string; build: string },
  from: LogPosition,
  signal: AbortSignal,
): AsyncGenerator<LogEvent> {
  const graceMs = deps.graceMs ?? 10_000;
  const pollMs = deps.pollMs ?? 1_000;
  let { step: index, offset } = from;
  while (!signal.aborted) {
    const build = deps.build();
    if (!build) {
      yield { type: "end", phase: "Gone", reason: "the Build was deleted" };
      return;
    }
    const steps = build.status?.steps ?? [];
    const finished = isFinished(build.status?.phase);
    const step = steps[index];
    if (!step) {
      if (finished) {
        yield { type: "end", phase: build.status?.phase ?? "", reason: "the build finished" };
        return;
      }
      await deps.changed(pollMs, signal);
      continue;
    }
    const logs: StepLogInfo[] = await deps.store.steps(ref, { signal });
    const info = logs.find((l) => l.step === step.name);
    if (!info) {
      // No log (yet): a step that is over without one has none; one under way may start its log soon.
      if (finished || DONE_STEP.has(step.phase)) {
        index++;
        offset = 0;
        continue;
      }
      await deps.changed(pollMs, signal);
      continue;
    }
    // Follow this step's log until it is complete; once the Build is over, give its last bytes graceMs.
    const stepSignal = followUntil(deps, graceMs, signal);
    let held: Buffer = Buffer.alloc(0);
    const decoder = new TextDecoder("utf-8");
    try {
      for await (const chunk of deps.store.followLog(
        { ...ref, step: step.name },
        { offset, signal: stepSignal.signal },
      )) {
        const bytes = held.length > 0 ? Buffer.concat([held, chunk]) : chunk;
        const whole = wholeUtf8(bytes);
        held = bytes.subarray(whole);
        if (whole === 0) continue;
        offset += whole;
        yield {
          type: "log",
          step: index,
          name: step.name,
          text: decoder.decode(bytes.subarray(0, whole)),
          position: { step: index, offset },
        };
      }
    } finally {
      stepSignal.stop();
    }
    if (signal.aborted) return;
    if (held.length > 0) {
      offset += held.length;
      yield {
        type: "log",
        step: index,
        name: step.name,
        text: decoder.decode(held),
        position: { step: index, offset },
      };
    }
    index++;
    offset = 0;
  }
}

/** An abort signal for following one step: the page's own, or graceMs after the Build is seen finished. */
function followUntil(
  deps: LogEventDeps,
  graceMs: number,
  outer: AbortSignal,
): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  const stopped = new AbortController();
  const abort = () => controller.abort();
  if (outer.aborted) abort();
  else outer.addEventListener("abort", abort, { once: true });
  void (async () => {
    while (!stopped.signal.aborted && !controller.signal.aborted) {
      if (isFinished(deps.build()?.status?.phase) || deps.build() === undefined) {
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          stopped.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve(undefined);
          });
        });
        if (!stopped.signal.aborted) controller.abort();
        return;
      }
      await deps.changed(60_000, stopped.signal);
    }
  })();
  return {
    signal: controller.signal,
    stop() {
      stopped.abort();
      outer.removeEventListener("abort", abort);
    },
  };
}
