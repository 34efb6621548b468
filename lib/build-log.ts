// A Build's log as `kiln store` keeps it, read the way the build container's log reads: each step's output
// under its header (stepHeader, api/pod-protocol.ts), steps in the order they began. For `kiln logs` and the
// chat's /log once the pod is gone (or whenever the install has a store).
import { stepHeader } from "../api/pod-protocol.ts";
import type { BuildRef, StepLogInfo } from "../api/store-protocol.ts";
import type { StoreClient } from "./store-client.ts";

type Reads = Pick<StoreClient, "steps" | "readLog">;

/**
 * The steps in the Build's own order (its status.steps) when it is known, else the store's (the order their
 * logs were completed, which the agent keeps to the steps').
 */
function ordered(steps: StepLogInfo[], order: readonly string[] | undefined): StepLogInfo[] {
  if (!order) return steps;
  const at = (s: StepLogInfo) => {
    const i = order.indexOf(s.step);
    return i === -1 ? order.length : i;
  };
  return steps.toSorted((a, b) => at(a) - at(b));
}

/** The whole log, or one step's output only (no header); undefined when the store has no log of the Build. */
export async function readBuildLog(
  store: Reads,
  ref: BuildRef,
  options: { step?: string; order?: readonly string[]; signal?: AbortSignal } = {},
): Promise<AsyncGenerator<Buffer> | undefined> {
  const steps = ordered(await store.steps(ref, options), options.order);
  const chosen = options.step === undefined ? steps : steps.filter((s) => s.step === options.step);
  if (chosen.length === 0) return undefined;
  return (async function* () {
    for (const s of chosen) {
      if (options.step === undefined) yield Buffer.from(stepHeader(s.step));
      const read = await store.readLog({ ...ref, step: s.step }, options);
      if (read) yield* read.body as AsyncIterable<Buffer>;
    }
  })();
}

/** How far back from each step's end a tail reads: enough for a screenful of long lines. */
const TAIL_WINDOW = 64 * 1024;

/**
 * The last `lines` lines of the log (headers included), reading only the ends of the last steps; undefined
 * when the store has no log of the Build.
 */
export async function tailBuildLog(
  store: Reads,
  ref: BuildRef,
  lines: number,
  options: { order?: readonly string[]; signal?: AbortSignal; listed?: StepLogInfo[] } = {},
): Promise<string | undefined> {
  // `listed`: the steps the caller has already asked the store for (not asked again).
  const steps = ordered(options.listed ?? (await store.steps(ref, options)), options.order);
  if (steps.length === 0) return undefined;
  const parts: string[] = [];
  let have = 0;
  for (const s of steps.toReversed()) {
    const from = Math.max(0, s.length - TAIL_WINDOW);
    const read = await store.readLog({ ...ref, step: s.step }, { ...options, offset: from });
    const chunks: Buffer[] = [];
    if (read) for await (const c of read.body as AsyncIterable<Buffer>) chunks.push(c);
    let text = Buffer.concat(chunks).toString("utf8");
    // A window that starts inside a line (or a character) starts at the next line.
    if (from > 0) text = text.slice(text.indexOf("\n") + 1);
    const part = (from === 0 ? stepHeader(s.step) : "") + text;
    parts.unshift(part);
    have += part.split("\n").length - 1;
    if (have >= lines || from > 0) break;
  }
  return parts.join("").replace(/^\n/, "");
}
