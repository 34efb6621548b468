// One step's part of the build container's log. The agent writes stepHeader(name) — an empty line, then
// `==> <name>` — before each step's output (api/pod-protocol.ts), so a step's part runs from its header to
// the next one. A step may print such a line itself; it counts as a header only when it names a step of
// the pipeline (the Build's status.steps, which the agent fills with every step before the first runs),
// and, while those are not known yet, any `==> ` line does. (A step that prints `==> <another step>`
// exactly still cuts its part short there: the log carries no more than that line to tell them apart.)
import { STEP_HEADER_PREFIX } from "../api/pod-protocol.ts";

export class StepFilter {
  readonly #step: string;
  readonly #names: () => readonly string[] | undefined;
  #partial = "";
  #inside = false;
  /** An empty line inside the step, held back: it is the header's own when a header follows. */
  #blank = false;

  /** `names` is asked when a line looks like a header: the pipeline's step names, once known. */
  constructor(step: string, names: () => readonly string[] | undefined) {
    this.#step = step;
    this.#names = names;
  }

  /** The part of `text` (the next piece of the log) that is the step's, as whole lines. */
  push(text: string): string {
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop()!;
    let out = "";
    for (const line of lines) out += this.#line(line);
    return out;
  }

  /** The rest, once the log is over: a last line without its newline, or an empty line held back. */
  end(): string {
    const rest = this.#partial;
    this.#partial = "";
    if (rest !== "") return this.#line(rest).replace(/\n$/, "");
    const held = this.#inside && this.#blank ? "\n" : "";
    this.#blank = false;
    return held;
  }

  #line(line: string): string {
    const header = this.#header(line);
    if (header !== undefined) {
      this.#inside = header === this.#step;
      this.#blank = false;
      return "";
    }
    if (!this.#inside) return "";
    if (line === "") {
      const held = this.#blank ? "\n" : "";
      this.#blank = true;
      return held;
    }
    const held = this.#blank ? "\n" : "";
    this.#blank = false;
    return `${held}${line}\n`;
  }

  #header(line: string): string | undefined {
    if (!line.startsWith(STEP_HEADER_PREFIX)) return undefined;
    const name = line.slice(STEP_HEADER_PREFIX.length);
    const names = this.#names();
    return names === undefined || names.length === 0 || names.includes(name) ? name : undefined;
  }
}

/** The step's part of a whole log. */
export function stepLog(log: string, step: string, names: readonly string[] | undefined): string {
  const filter = new StepFilter(step, () => names);
  return filter.push(log) + filter.end();
}
