// Host processes by command line, for the tests that prove a pod or container leaves nothing behind.
import * as fs from "node:fs";

/** Host pids (other than this one) whose command line contains the marker. */
export function pidsWith(marker: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker)) out.push(Number(entry));
    } catch {}
  }
  return out;
}
