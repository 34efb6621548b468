// What people ask of a Build — from the chat (controllers/reporting) or the CLI (cli/) alike — as the merge
// patches that ask it: a spec field or an annotation the controllers act on, naming who asked, so
// `kubectl describe build` shows who did what. `by` is `telegram:@name` from the chat, `kubernetes:<user>`
// from the CLI.
import { type Build, isFinished } from "./build.ts";
import { ANNOTATIONS } from "./group.ts";

/** Why a Build cannot be cancelled: it is over already, or someone asked before. */
export type CancelRefusal = { reason: "finished"; phase: string } | { reason: "cancelling" };

export function cancelRefusal(build: Build): CancelRefusal | undefined {
  const phase = build.status?.phase;
  if (isFinished(phase)) return { reason: "finished", phase: phase! };
  if (build.spec.cancel) return { reason: "cancelling" };
  return undefined;
}

/** Stops the build (the build controller deletes its pod and records it Cancelled). */
export function cancelPatch(by: string) {
  return { metadata: { annotations: { [ANNOTATIONS.requestedBy]: by } }, spec: { cancel: true } };
}

/** Lets a paused build go on: the agent resumes when the annotation's value changes. */
export function resumePatch(by: string, now: number) {
  return { metadata: { annotations: { [ANNOTATIONS.resume]: `${Math.floor(now / 1000)} ${by}` } } };
}

/** Keeps a paused build paused until `until` (RFC 3339), at least. */
export function holdPatch(until: string, by: string) {
  return { metadata: { annotations: { [ANNOTATIONS.holdUntil]: until, [ANNOTATIONS.requestedBy]: by } } };
}

/** Lets a pull request from a fork build. */
export function approvePatch(by: string) {
  return { metadata: { annotations: { [ANNOTATIONS.approvedBy]: by } } };
}
