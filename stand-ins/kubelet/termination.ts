// A terminated container's message, as the kubelet builds it: what the container wrote to its
// terminationMessagePath (at most 4096 bytes), or with FallbackToLogsOnError and a failure, the
// tail of its log (80 lines, at most 2048 bytes). (A container that never started has its StartError
// message instead: pod-worker.ts.)
import type { V1Container } from "@kubernetes/client-node";

const MESSAGE_LIMIT = 4096;
const FALLBACK_LINES = 80;
const FALLBACK_BYTES = 2048;

export function terminationMessage(
  container: Pick<V1Container, "terminationMessagePolicy">,
  written: string,
  exit: { exitCode: number },
  log: { line: string }[],
): string | undefined {
  let text = written.slice(0, MESSAGE_LIMIT);
  if (!text && container.terminationMessagePolicy === "FallbackToLogsOnError" && exit.exitCode !== 0) {
    text = log
      .slice(-FALLBACK_LINES)
      .map((e) => `${e.line}\n`)
      .join("")
      .slice(-FALLBACK_BYTES);
  }
  return text || undefined;
}
