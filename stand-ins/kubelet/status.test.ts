import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1ContainerState, V1Pod } from "@kubernetes/client-node";
import { type ContainerRecord, computePodStatus, type PodRecord, podPhase } from "./status.ts";

const t0 = new Date("2026-01-01T00:00:00Z");
const t1 = new Date("2026-01-01T00:00:05Z");

function pod(restartPolicy: string, sidecar = false): V1Pod {
  return {
    metadata: { name: "p", namespace: "default" },
    spec: {
      restartPolicy,
      initContainers: [
        { name: "init", image: "x" },
        ...(sidecar ? [{ name: "svc", image: "x", restartPolicy: "Always" }] : []),
      ],
      containers: [
        { name: "a", image: "x" },
        { name: "b", image: "x" },
      ],
    },
  };
}

const waiting: V1ContainerState = { waiting: { reason: "PodInitializing" } };
const running: V1ContainerState = { running: { startedAt: t0 } };
const exit = (code: number): V1ContainerState => ({
  terminated: { exitCode: code, reason: code ? "Error" : "Completed", startedAt: t0, finishedAt: t1 },
});

type Spec = Record<
  string,
  V1ContainerState | [V1ContainerState, { started?: boolean; ready?: boolean; last?: V1ContainerState }]
>;

function record(states: Spec, extra: Partial<PodRecord> = {}): PodRecord {
  const containers = new Map<string, ContainerRecord>();
  for (const [name, v] of Object.entries(states)) {
    const [state, opts] = Array.isArray(v) ? v : [v, {}];
    containers.set(name, {
      name,
      state,
      restartCount: opts.last ? 1 : 0,
      ready: opts.ready ?? false,
      started: opts.started ?? state.running !== undefined,
      ...(opts.last ? { lastState: opts.last } : {}),
    });
  }
  return {
    podIP: "127.0.0.1",
    hostIP: "127.0.0.1",
    startTime: t0,
    sandboxReady: true,
    terminal: false,
    containers,
    ...extra,
  };
}

describe("podPhase", () => {
  const cases: [string, V1Pod, Spec, string, Partial<PodRecord>?][] = [
    ["nothing started", pod("Never"), {}, "Pending"],
    ["init running", pod("Never"), { init: running }, "Pending"],
    ["init failed, Never", pod("Never"), { init: exit(1) }, "Failed"],
    [
      "init failed, OnFailure restarting",
      pod("OnFailure"),
      { init: [waiting, { last: exit(1) }] },
      "Pending",
    ],
    ["init done, mains waiting", pod("Never"), { init: exit(0), a: waiting, b: waiting }, "Pending"],
    ["one main running", pod("Never"), { init: exit(0), a: running, b: exit(0) }, "Running"],
    ["all mains ok", pod("Never"), { init: exit(0), a: exit(0), b: exit(0) }, "Succeeded"],
    ["one main failed, Never", pod("Never"), { init: exit(0), a: exit(0), b: exit(2) }, "Failed"],
    ["one main failed, OnFailure", pod("OnFailure"), { init: exit(0), a: exit(0), b: exit(2) }, "Running"],
    ["all mains done, Always", pod("Always"), { init: exit(0), a: exit(0), b: exit(0) }, "Running"],
    [
      "terminal with a failure",
      pod("Always"),
      { init: exit(0), a: exit(0), b: exit(137) },
      "Failed",
      { terminal: true },
    ],
    [
      "sidecar not started yet",
      pod("Never", true),
      { init: exit(0), svc: [running, { started: false }] },
      "Pending",
    ],
    [
      "sidecar running after mains succeeded",
      pod("Never", true),
      { init: exit(0), svc: running, a: exit(0), b: exit(0) },
      "Running",
    ],
    [
      "sidecar stopped after mains succeeded",
      pod("Never", true),
      { init: exit(0), svc: exit(143), a: exit(0), b: exit(0) },
      "Succeeded",
    ],
    [
      "deadline",
      pod("Never"),
      { init: exit(0), a: running, b: running },
      "Failed",
      { failure: { reason: "DeadlineExceeded", message: "x" } },
    ],
  ];
  for (const [name, p, states, want, extra] of cases) {
    test(name, () => assert.equal(podPhase(p, record(states, extra)), want));
  }
});

describe("computePodStatus", () => {
  test("pending init: conditions and waiting reasons", () => {
    const s = computePodStatus(pod("Never"), record({ init: running }), undefined, t1);
    const cond = Object.fromEntries(s.conditions!.map((c) => [c.type, c]));
    assert.equal(cond.Initialized?.status, "False");
    assert.equal(cond.Initialized?.message, "containers with incomplete status: [init]");
    assert.equal(cond.Ready?.message, "containers with unready status: [a b]");
    assert.equal(cond.PodScheduled?.status, "True");
    assert.equal(cond.PodReadyToStartContainers?.status, "True");
    assert.equal(s.containerStatuses![0]!.state!.waiting!.reason, "PodInitializing");
    assert.equal(s.initContainerStatuses![0]!.state!.running!.startedAt, t0);
    assert.equal(s.podIP, "127.0.0.1");
    assert.equal(s.startTime, t0);
  });

  test("running and ready keeps earlier transition times", () => {
    const p = pod("Never", true);
    const r = record({
      init: exit(0),
      svc: [running, { ready: true }],
      a: [running, { ready: true }],
      b: [running, { ready: true }],
    });
    const first = computePodStatus(p, r, undefined, t0);
    const second = computePodStatus(p, r, first, t1);
    const ready = second.conditions!.find((c) => c.type === "Ready")!;
    assert.equal(second.phase, "Running");
    assert.equal(ready.status, "True");
    assert.deepEqual(ready.lastTransitionTime, t0);
    assert.equal(second.containerStatuses![0]!.ready, true);
  });

  test("a sidecar that is not ready keeps the pod unready", () => {
    const p = pod("Never", true);
    const r = record({
      init: exit(0),
      svc: running,
      a: [running, { ready: true }],
      b: [running, { ready: true }],
    });
    const s = computePodStatus(p, r, undefined, t0);
    assert.equal(
      s.conditions!.find((c) => c.type === "ContainersReady")!.message,
      "containers with unready status: [svc]",
    );
  });

  test("succeeded pod: PodCompleted, deadline failure carries reason", () => {
    const done = computePodStatus(
      pod("Never"),
      record({ init: exit(0), a: exit(0), b: exit(0) }, { terminal: true }),
      undefined,
      t1,
    );
    assert.equal(done.phase, "Succeeded");
    assert.equal(done.conditions!.find((c) => c.type === "Ready")!.reason, "PodCompleted");
    const failed = computePodStatus(
      pod("Never"),
      record(
        { init: exit(0), a: exit(137), b: exit(137) },
        { failure: { reason: "DeadlineExceeded", message: "m" } },
      ),
      undefined,
      t1,
    );
    assert.equal(failed.phase, "Failed");
    assert.equal(failed.reason, "DeadlineExceeded");
    assert.equal(failed.message, "m");
  });
});
