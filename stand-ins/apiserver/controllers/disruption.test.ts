// Table tests of PodDisruptionBudget status (the disruption controller) and of the eviction decision.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decideEviction } from "../eviction.ts";
import type { KubeObject } from "../storage.ts";
import { countHealthy, expectedPodCount, type PodDisruptionBudget, pdbStatus } from "./pdb-status.ts";

const NOW = new Date("2026-01-01T00:10:00Z");

function pod(
  name: string,
  ready: boolean,
  extra: Partial<KubeObject["metadata"]> = {},
  phase = "Running",
): KubeObject {
  return {
    metadata: {
      name,
      labels: { app: "web" },
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "rs", controller: true },
      ],
      ...extra,
    },
    status: { phase, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

function pdb(spec: PodDisruptionBudget["spec"], status?: PodDisruptionBudget["status"]): PodDisruptionBudget {
  return {
    metadata: { name: "web", namespace: "ns", generation: 1 },
    spec: { selector: { matchLabels: { app: "web" } }, ...spec },
    status,
  };
}

const scale = (n: number) => () => ({ uid: "d", scale: n });

describe("expected and desired healthy pods", () => {
  const pods = [pod("a", true), pod("b", true), pod("c", false)];
  const cases: [string, PodDisruptionBudget["spec"], number, number, number][] = [
    ["minAvailable 2: expected = selected pods", { minAvailable: 2 }, 3, 3, 2],
    ["minAvailable 50% of the controller's scale 4, rounded up", { minAvailable: "50%" }, 4, 4, 2],
    ["maxUnavailable 1 of scale 4", { maxUnavailable: 1 }, 4, 4, 3],
    ["maxUnavailable 25% of scale 3 rounds up to 1", { maxUnavailable: "25%" }, 3, 3, 2],
  ];
  for (const [name, spec, controllerScale, expected, desired] of cases) {
    test(name, () => {
      const got = expectedPodCount(pdb(spec), pods, scale(controllerScale));
      assert.deepEqual([got.expected, got.desiredHealthy], [expected, desired]);
    });
  }
  test("a percentage over pods without a scalable controller is an error", () => {
    assert.throws(
      () =>
        expectedPodCount(pdb({ minAvailable: "50%" }), pods, () => ({
          error: "builds.kiln.dev does not implement the scale subresource",
        })),
      /does not implement the scale subresource/,
    );
  });
});

describe("status", () => {
  test("disruptions allowed are healthy minus desired, with the DisruptionAllowed condition", () => {
    const b = pdb({ minAvailable: 1 });
    const pods = [pod("a", true), pod("b", true)];
    const s = pdbStatus(
      b,
      { currentHealthy: countHealthy(pods, {}, NOW), desiredHealthy: 1, expected: 2 },
      {},
      NOW,
    )!;
    assert.deepEqual(
      { ...s, conditions: s.conditions!.map((c) => [c.type, c.status, c.reason]) },
      {
        observedGeneration: 1,
        disruptionsAllowed: 1,
        currentHealthy: 2,
        desiredHealthy: 1,
        expectedPods: 2,
        conditions: [["DisruptionAllowed", "True", "SufficientPods"]],
      },
    );
    assert.equal(
      pdbStatus({ ...b, status: s }, { currentHealthy: 2, desiredHealthy: 1, expected: 2 }, {}, NOW),
      undefined,
    );
  });
  test("pods being deleted or just evicted are not healthy", () => {
    const pods = [
      pod("a", true, { deletionTimestamp: "2026-01-01T00:00:00Z" }),
      pod("b", true),
      pod("c", true),
    ];
    assert.equal(countHealthy(pods, { c: "2026-01-01T00:09:00Z" }, NOW), 1);
  });
});

describe("eviction", () => {
  const allowing = pdb(
    { minAvailable: 1 },
    { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 },
  );
  const blocking = pdb(
    { minAvailable: 2 },
    { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2 },
  );
  test("no budget: delete", () => assert.equal(decideEviction(pod("a", true), [], NOW).kind, "delete"));
  test("pending or finished pods go without a budget check", () => {
    assert.equal(decideEviction(pod("a", true, {}, "Pending"), [blocking], NOW).kind, "delete");
    assert.equal(decideEviction(pod("a", true, {}, "Succeeded"), [blocking], NOW).kind, "delete");
  });
  test("a budget that allows it takes one disruption and records the pod", () => {
    const d = decideEviction(pod("a", true), [allowing], NOW);
    assert.equal(d.kind, "decrement");
    if (d.kind !== "decrement") return;
    assert.equal(d.status.disruptionsAllowed, 0);
    assert.deepEqual(d.status.disruptedPods, { a: "2026-01-01T00:10:00Z" });
    assert.equal(d.status.conditions?.[0]?.reason, "InsufficientPods");
  });
  test("a budget with no disruption left: 429 with kube's message and cause", () => {
    const d = decideEviction(pod("a", true), [blocking], NOW);
    assert.equal(d.kind, "refuse");
    if (d.kind !== "refuse") return;
    assert.equal(d.error.code, 429);
    assert.equal(d.error.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(d.error.details, {
      causes: [
        {
          reason: "DisruptionBudget",
          message: "The disruption budget web needs 2 healthy pods and has 2 currently",
        },
      ],
    });
  });
  test("a budget the controller has not seen yet: 429, retry after 10 s", () => {
    const d = decideEviction(
      pod("a", true),
      [{ ...blocking, metadata: { ...blocking.metadata, generation: 2 } }],
      NOW,
    );
    assert.equal(d.kind === "refuse" && d.error.details?.retryAfterSeconds, 10);
  });
  test("an unready pod goes while the budget is otherwise met", () => {
    const met = pdb(
      { minAvailable: 1 },
      { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 2 },
    );
    assert.equal(decideEviction(pod("a", false), [met], NOW).kind, "delete");
  });
  test("two budgets: 500", () => {
    const d = decideEviction(pod("a", true), [allowing, allowing], NOW);
    assert.equal(d.kind === "status" && d.code, 500);
  });
});
