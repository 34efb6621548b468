import { describe, test } from "node:test";
import type { OwnedStatus } from "./owned-status.ts";
import { transitionEvent } from "./transition.ts";

const rows: Array<[string, OwnedStatus, OwnedStatus, ReturnType<typeof transitionEvent>]> = [
  ["no phase change, no Event", { phase: "Running" }, { phase: "Running", message: "x" }, undefined],
  ["no Event for every pod start", { phase: "Queued" }, { phase: "Pending" }, undefined],
  [
    "a new build's first phase",
    {},
    { phase: "Queued", message: "m" },
    { type: "Normal", reason: "Queued", message: "New → Queued: m" },
  ],
  [
    "a failure is a Warning whose reason is the phase; the controller's reason in the message",
    { phase: "Running" },
    { phase: "Failed", reason: "StepFailed", message: 'step "t" failed' },
    { type: "Warning", reason: "Failed", message: 'Running → Failed (StepFailed): step "t" failed' },
  ],
  [
    "Errored and TimedOut warn too",
    { phase: "Pending" },
    { phase: "Errored", reason: "PodConflict", message: "m" },
    { type: "Warning", reason: "Errored", message: "Pending → Errored (PodConflict): m" },
  ],
  [
    "superseded is Normal: nothing went wrong",
    { phase: "Running" },
    { phase: "Cancelled", reason: "Superseded", message: "superseded by b" },
    { type: "Normal", reason: "Cancelled", message: "Running → Cancelled (Superseded): superseded by b" },
  ],
  [
    "a reason equal to the phase is not repeated",
    { phase: "Running" },
    { phase: "Succeeded", reason: "Succeeded", message: "all 2 steps succeeded" },
    { type: "Normal", reason: "Succeeded", message: "Running → Succeeded: all 2 steps succeeded" },
  ],
];

describe("transitionEvent", () => {
  for (const [name, before, after, expected] of rows) {
    test(name, (t) => t.assert.deepEqual(transitionEvent(before, after), expected));
  }
});
