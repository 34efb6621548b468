// The wire format of the build pod's FIFOs between the agent (agent/runner-link.ts) and the runner
// (agent/runner.sh): what api/pod-protocol.ts describes in prose, as lines.
import { STEPS_DIR } from "../api/pod-protocol.ts";

export type RunnerCommand = { kind: "step"; index: number } | { kind: "exit"; code: number };

export type RunnerEvent =
  | { kind: "ready"; pid: number }
  | { kind: "start"; index: number }
  | { kind: "done"; index: number; exitCode: number };

/** One line for the `next` FIFO. */
export function formatCommand(command: RunnerCommand): string {
  return command.kind === "step" ? `step ${command.index}\n` : `exit ${command.code}\n`;
}

/** One line for the `ctl` FIFO. */
export function formatStop(signal: "TERM" | "KILL", index: number): string {
  return `${signal} ${index}\n`;
}

/** Parses one line of the `events` FIFO; undefined for anything else (never throws). */
export function parseEvent(line: string): RunnerEvent | undefined {
  const match = /^(ready|start|done) (\d+)(?: (\d+))?$/.exec(line.trim());
  if (!match) return undefined;
  const a = Number(match[2]);
  const b = match[3] === undefined ? undefined : Number(match[3]);
  if (match[1] === "done") return b === undefined ? undefined : { kind: "done", index: a, exitCode: b };
  if (b !== undefined) return undefined;
  return match[1] === "ready" ? { kind: "ready", pid: a } : { kind: "start", index: a };
}

/** The file name of step `index`'s script inside KILN_DIR. */
export function stepScriptPath(kilnDir: string, index: number): string {
  return `${kilnDir}/${STEPS_DIR}/${index}.sh`;
}

/** Quotes a value for a POSIX shell: single quotes, with embedded ones closed and escaped. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * The step script the agent writes: a guard (a stop that came before the step's shell existed
 * leaves `stop.<n>` behind: the step then ends at once, as if signalled), env exports, then the
 * user's commands (run by `sh -e`).
 */
export function stepScript(
  env: Record<string, string>,
  run: string,
  guard?: { kilnDir: string; index: number },
): string {
  const exports = Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}\n`);
  const stop = guard ? `[ ! -e ${shellQuote(`${guard.kilnDir}/stop.${guard.index}`)} ] || exit 143\n` : "";
  return `${stop}${exports.join("")}${run}\n`;
}
