import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";
import { sampleBuild } from "../../test/fixtures/build.ts";
import { buildStatus, type StatusLimits, transitionEvent } from "./build-status.ts";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const limits: StatusLimits = { unschedulableTimeoutMs: 300_000, startTimeoutMs: 600_000 };
const at = (s: number) => T0 + s * 1000;
const iso = (s: number) => new Date(at(s)).toISOString();

const pending = { phase: "Pending", podName: "b-pod", startTime: iso(0) } as const;
const running = { ...pending, phase: "Running" } as const;

function pod(status: V1Pod["status"], meta: Partial<V1Pod["metadata"]> = {}): V1Pod {
  return { metadata: { name: "b-pod", creationTimestamp: iso(0) as unknown as Date, ...meta }, status };
}
const term = (name: string, exitCode: number, reason?: string, message?: string) => ({
  name,
  ready: false,
  restartCount: 0,
  image: "x",
  imageID: "",
  state: { terminated: { exitCode, reason, message } },
});
const wait = (name: string, reason: string, message?: string) => ({
  name,
  ready: false,
  restartCount: 0,
  image: "x",
  imageID: "",
  state: { waiting: { reason, message } },
});
const run = (name: string) => ({
  name,
  ready: true,
  restartCount: 0,
  image: "x",
  imageID: "",
  state: { running: {} },
});

interface Row {
  name: string;
  build: Build;
  pod?: V1Pod;
  now?: number;
  phase: string | undefined;
  reason?: string;
  message?: RegExp;
  deletePod?: boolean;
}

const steps = (...s: NonNullable<Build["status"]>["steps"] & object) => s;

const rows: Row[] = [
  { name: "new build, no pod yet: nothing to say", build: sampleBuild(), phase: undefined },
  {
    name: "pod created, not scheduled yet: Pending",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Pending" }),
    now: at(1),
    phase: "Pending",
    reason: "PodPending",
  },
  {
    name: "unschedulable for a while: still Pending",
    build: sampleBuild({ status: pending }),
    pod: pod({
      phase: "Pending",
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message: "0/3 nodes",
          lastTransitionTime: iso(0) as unknown as Date,
        },
      ],
    }),
    now: at(60),
    phase: "Pending",
    reason: "Unschedulable",
  },
  {
    name: "unschedulable past the limit: Errored, pod deleted",
    build: sampleBuild({ status: pending }),
    pod: pod({
      phase: "Pending",
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message: "0/3 nodes",
          lastTransitionTime: iso(0) as unknown as Date,
        },
      ],
    }),
    now: at(301),
    phase: "Errored",
    reason: "Unschedulable",
    message: /0\/3 nodes/,
    deletePod: true,
  },
  {
    name: "image cannot be pulled for a while: Pending",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Pending", containerStatuses: [wait("build", "ImagePullBackOff", "not found")] }),
    now: at(30),
    phase: "Pending",
    reason: "ImagePullBackOff",
  },
  {
    name: "image pull failing past the start limit: Errored",
    build: sampleBuild({ status: pending }),
    pod: pod({
      phase: "Pending",
      containerStatuses: [wait("build", "ImagePullBackOff", "nodejs:99 not found")],
    }),
    now: at(601),
    phase: "Errored",
    reason: "ImagePullFailed",
    message: /nodejs:99/,
    deletePod: true,
  },
  {
    name: "invalid image name: Errored at once",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Pending", containerStatuses: [wait("build", "InvalidImageName", "bad ref")] }),
    now: at(1),
    phase: "Errored",
    reason: "InvalidImageName",
    deletePod: true,
  },
  {
    name: "containers never started: Errored after the start limit",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Pending", initContainerStatuses: [wait("fetch", "PodInitializing")] }),
    now: at(601),
    phase: "Errored",
    reason: "StartTimeout",
    deletePod: true,
  },
  {
    name: "pod running: Running with the current step",
    build: sampleBuild({ status: { ...pending, steps: steps({ name: "install", phase: "Running" }) } }),
    pod: pod({ phase: "Running", containerStatuses: [run("build"), run("agent")] }),
    now: at(5),
    phase: "Running",
    message: /running step "install"/,
  },
  {
    name: "a paused step: Paused with the step's message",
    build: sampleBuild({
      status: {
        ...running,
        steps: steps({
          name: "test",
          phase: "Paused",
          message: "Debug with: kubectl exec -it b-pod -c build -- sh",
        }),
      },
    }),
    pod: pod({ phase: "Running" }),
    now: at(5),
    phase: "Paused",
    message: /kubectl exec -it b-pod -c build/,
  },
  {
    name: "resumed after a pause: Running again",
    build: sampleBuild({
      status: { ...running, phase: "Paused", steps: steps({ name: "test", phase: "Running" }) },
    }),
    pod: pod({ phase: "Running" }),
    now: at(5),
    phase: "Running",
  },
  {
    name: "build container OOM-killed while running: Errored",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Running", containerStatuses: [term("build", 137, "OOMKilled"), run("agent")] }),
    now: at(5),
    phase: "Errored",
    reason: "OOMKilled",
    deletePod: true,
  },
  {
    name: "pod succeeded: Succeeded, with duration",
    build: sampleBuild({
      status: {
        ...running,
        steps: steps({ name: "a", phase: "Succeeded" }, { name: "b", phase: "Succeeded" }),
      },
    }),
    pod: pod({ phase: "Succeeded" }),
    now: at(75),
    phase: "Succeeded",
    message: /all 2 steps/,
  },
  {
    name: "a step failed: Failed naming the step and exit code",
    build: sampleBuild({
      status: {
        ...running,
        steps: steps({ name: "a", phase: "Succeeded" }, { name: "test", phase: "Failed", exitCode: 3 }),
      },
    }),
    pod: pod({ phase: "Failed", containerStatuses: [term("build", 1), term("agent", 1)] }),
    now: at(10),
    phase: "Failed",
    reason: "StepFailed",
    message: /step "test" failed with exit code 3/,
  },
  {
    name: "a step timed out: Failed naming the step",
    build: sampleBuild({ status: { ...running, steps: steps({ name: "slow", phase: "TimedOut" }) } }),
    pod: pod({ phase: "Failed", containerStatuses: [term("agent", 1)] }),
    now: at(10),
    phase: "Failed",
    message: /step "slow" timed out/,
  },
  {
    name: "invalid manifest reported by the agent: Failed with its located message",
    build: sampleBuild({
      status: {
        ...running,
        steps: steps({ name: ".kiln.yaml", phase: "Failed", message: '.kiln.yaml:3:5: unknown key "stpes"' }),
      },
    }),
    pod: pod({ phase: "Failed", containerStatuses: [term("agent", 2)] }),
    now: at(10),
    phase: "Failed",
    reason: "InvalidManifest",
    message: /\.kiln\.yaml:3:5/,
  },
  {
    name: "evicted: Errored, never Succeeded",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory." }),
    now: at(10),
    phase: "Errored",
    reason: "Evicted",
    message: /low on resource/,
  },
  {
    name: "OOM-killed pod: Errored",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Failed", containerStatuses: [term("build", 137, "OOMKilled"), term("agent", 1)] }),
    now: at(10),
    phase: "Errored",
    reason: "OOMKilled",
  },
  {
    name: "fetch failed: Errored with git's message",
    build: sampleBuild({ status: pending }),
    pod: pod({
      phase: "Failed",
      initContainerStatuses: [term("fetch", 128, "Error", "fatal: remote error: not our ref")],
    }),
    now: at(10),
    phase: "Errored",
    reason: "FetchFailed",
    message: /not our ref/,
  },
  {
    name: "agent crashed without a failed step: Errored",
    build: sampleBuild({ status: running }),
    pod: pod({
      phase: "Failed",
      containerStatuses: [term("build", 125), term("agent", 125, "Error", "lost the API")],
    }),
    now: at(10),
    phase: "Errored",
    reason: "PodFailed",
    message: /code 125: lost the API/,
  },
  {
    name: "pod killed by its deadline: TimedOut",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Failed", reason: "DeadlineExceeded" }),
    now: at(10),
    phase: "TimedOut",
  },
  {
    name: "pod lost while running: Errored",
    build: sampleBuild({ status: running }),
    now: at(10),
    phase: "Errored",
    reason: "PodLost",
    message: /b-pod disappeared/,
  },
  {
    name: "timeout passed (measured from start): TimedOut, pod deleted",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Running" }),
    now: at(1801),
    phase: "TimedOut",
    deletePod: true,
  },
  {
    name: "spec.cancel: Cancelled, pod deleted",
    build: sampleBuild({ spec: { cancel: true }, status: running }),
    pod: pod({ phase: "Running" }),
    now: at(10),
    phase: "Cancelled",
    message: /spec\.cancel/,
    deletePod: true,
  },
  {
    name: "finished builds stay as they are",
    build: sampleBuild({ spec: { cancel: true }, status: { ...running, phase: "Succeeded" } }),
    pod: pod({ phase: "Failed", reason: "Evicted" }),
    now: at(10),
    phase: "Succeeded",
  },
];

describe("buildStatus", () => {
  for (const row of rows) {
    test(row.name, (t) => {
      const d = buildStatus(row.build, row.pod, row.now ?? T0, limits);
      t.assert.equal(d.status.phase, row.phase);
      if (row.reason) t.assert.equal(d.status.reason, row.reason);
      if (row.message) t.assert.match(d.status.message ?? "", row.message);
      t.assert.equal(d.deletePod, row.deletePod ?? false);
      const finished = ["Succeeded", "Failed", "Errored", "Cancelled", "TimedOut"].includes(
        d.status.phase ?? "",
      );
      if (finished && row.build.status?.phase !== d.status.phase) {
        t.assert.equal(d.status.completionTime, new Date(row.now!).toISOString());
        assert.ok(d.status.duration);
      }
    });
  }

  test("the cancel annotation cancels too", (t) => {
    const build = sampleBuild({ status: running });
    build.metadata.annotations = { "kiln.dev/cancel": "true" };
    t.assert.equal(buildStatus(build, undefined, at(1), limits).status.phase, "Cancelled");
  });

  test("duration is measured from startTime", (t) => {
    const d = buildStatus(sampleBuild({ status: running }), pod({ phase: "Succeeded" }), at(187), limits);
    t.assert.equal(d.status.duration, "3m07s");
  });

  test("a running build is looked at again when its timeout falls due", (t) => {
    const d = buildStatus(sampleBuild({ status: running }), pod({ phase: "Running" }), at(1000), limits);
    t.assert.equal(d.requeueAfterMs, 800_000);
  });
});

describe("transitionEvent", () => {
  test("one event per phase change, warnings for failures", (t) => {
    t.assert.equal(transitionEvent({ phase: "Running" }, { phase: "Running", message: "x" }), undefined);
    t.assert.deepEqual(
      transitionEvent(
        { phase: "Running" },
        { phase: "Failed", reason: "StepFailed", message: 'step "t" failed' },
      ),
      {
        type: "Warning",
        reason: "Failed",
        message: 'Running → Failed (StepFailed): step "t" failed',
      },
    );
    t.assert.equal(transitionEvent({}, { phase: "Queued", message: "m" })?.type, "Normal");
    t.assert.equal(
      transitionEvent({ phase: "Queued" }, { phase: "Pending" }),
      undefined,
      "no Event for every pod start",
    );
  });
});
