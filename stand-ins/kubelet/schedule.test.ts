import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { podRequest, schedule } from "./schedule.ts";

const node = {
  labels: { "kubernetes.io/hostname": "n1", "kubernetes.io/os": "linux" },
  allocatable: { cpu: 2, memory: 2 ** 32 },
};
const c = (name: string, cpu?: string, extra: object = {}) => ({
  name,
  ...(cpu ? { resources: { requests: { cpu } } } : {}),
  ...extra,
});

test("the pod's request: regular containers and sidecars add up; plain init containers peak alone", () => {
  const pod: V1Pod = {
    spec: {
      initContainers: [
        c("fetch", "1500m"),
        c("agent", "100m", { restartPolicy: "Always" }),
        c("late", "300m"),
      ],
      containers: [c("build", "500m"), c("x")],
    },
  };
  assert.equal(podRequest(pod, "cpu"), 1.5);
  pod.spec!.containers = [c("build", "1900m")];
  assert.equal(podRequest(pod, "cpu"), 2);
  // A limit alone is the request (API defaulting).
  assert.equal(
    podRequest({ spec: { containers: [{ name: "a", resources: { limits: { memory: "1Gi" } } }] } }, "memory"),
    2 ** 30,
  );
});

test("what kube-scheduler would place here, and its message for what it would not", () => {
  assert.deepEqual(schedule({ spec: { containers: [c("a", "2")] } }, node), { fits: true });
  assert.deepEqual(schedule({ spec: { containers: [c("a", "2001m")] } }, node), {
    fits: false,
    message: "0/1 nodes are available: 1 Insufficient cpu.",
  });
  assert.deepEqual(
    schedule({ spec: { nodeSelector: { "kubernetes.io/hostname": "n1" }, containers: [] } }, node),
    {
      fits: true,
    },
  );
  assert.deepEqual(schedule({ spec: { nodeSelector: { disk: "ssd" }, containers: [] } }, node), {
    fits: false,
    message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
  });
  assert.deepEqual(schedule({ spec: { schedulerName: "other", containers: [] } }, node), {
    fits: false,
    ignore: true,
  });
  assert.deepEqual(schedule({ spec: { schedulerName: "default-scheduler", containers: [] } }, node), {
    fits: true,
  });
});
