// Whether a process still runs, for the tests that prove a step leaves nothing behind.
import { readFileSync } from "node:fs";

/** Running (a zombie waiting for init to reap it is not). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Signals are delivered asynchronously: give a killed process a moment to finish dying. */
export async function gone(pid: number, ms = 2000): Promise<boolean> {
  const until = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
