// Table tests of the Deployment controller's pure decisions: fenceposts, one rollout step (what to scale
// given the Deployment and its ReplicaSets), proportional scaling, cleanup, revisions and status.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  cleanupCandidates,
  newRSNewReplicas,
  proportionalScale,
  recreateStep,
  rollingStep,
} from "./deployment-rollout.ts";
import { calculateStatus, pausedConditionStatus, rolloutStatus } from "./deployment-status.ts";
import {
  type Deployment,
  maxSurge,
  maxUnavailable,
  newReplicaSetAnnotations,
  type ReplicaSet,
} from "./deployment-util.ts";

function deployment(
  replicas: number,
  strategy: Deployment["spec"]["strategy"] = {
    type: "RollingUpdate",
    rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" },
  },
  extra: Partial<Deployment["spec"]> = {},
): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "ns", uid: "d-uid", generation: 1 },
    spec: { replicas, strategy, progressDeadlineSeconds: 600, revisionHistoryLimit: 10, ...extra },
  };
}

function rs(
  name: string,
  replicas: number,
  available = replicas,
  options: { created?: string; annotations?: Record<string, string>; actual?: number } = {},
): ReplicaSet {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name,
      uid: `${name}-uid`,
      creationTimestamp: options.created ?? "2026-01-01T00:00:00Z",
      annotations: options.annotations,
      generation: 1,
    },
    spec: { replicas },
    status: {
      replicas: options.actual ?? replicas,
      readyReplicas: available,
      availableReplicas: available,
      observedGeneration: 1,
    },
  };
}

describe("surge and unavailability (ResolveFenceposts)", () => {
  const cases: [number, string | number, string | number, number, number][] = [
    // replicas, maxSurge, maxUnavailable → surge (rounded up), unavailable (rounded down)
    [4, "25%", "25%", 1, 1],
    [2, "25%", "25%", 1, 0],
    [10, "25%", "25%", 3, 2],
    [3, 0, "50%", 0, 1],
    [1, 0, "10%", 0, 1], // both resolve to 0: unavailability becomes 1
    [3, 2, 5, 2, 3], // unavailability capped at the replicas
  ];
  for (const [replicas, surge, unavailable, wantSurge, wantUnavailable] of cases) {
    test(`${replicas} replicas, maxSurge ${surge}, maxUnavailable ${unavailable}`, () => {
      const d = deployment(replicas, {
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable },
      });
      assert.equal(maxSurge(d), wantSurge);
      assert.equal(maxUnavailable(d), wantUnavailable);
    });
  }
  test("Recreate has neither", () => {
    const d = deployment(3, { type: "Recreate" });
    assert.equal(maxSurge(d), 0);
    assert.equal(maxUnavailable(d), 0);
  });
});

describe("one RollingUpdate step", () => {
  const cases: {
    name: string;
    d: Deployment;
    newRS: ReplicaSet;
    old: ReplicaSet[];
    ops: [string, number, number][];
  }[] = [
    {
      name: "a fresh new set grows to replicas + surge minus what old sets hold",
      d: deployment(4),
      newRS: rs("new", 0),
      old: [rs("old", 4)],
      ops: [["new", 0, 1]],
    },
    {
      name: "at the surge limit, old available replicas go down to keep minAvailable",
      d: deployment(4),
      newRS: rs("new", 1, 0),
      old: [rs("old", 4)],
      ops: [["old", 4, 3]],
    },
    {
      // 5 pods, 3 must stay available: the 2 unavailable old ones go, and no available one yet.
      name: "unavailable old replicas are cleaned up first",
      d: deployment(4),
      newRS: rs("new", 1, 1),
      old: [rs("old", 4, 2)],
      ops: [["old", 4, 2]],
    },
    {
      name: "nothing moves while the new replicas are not available",
      d: deployment(2, { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }),
      newRS: rs("new", 1, 0),
      old: [rs("old", 2)],
      ops: [],
    },
    {
      name: "a new set larger than desired shrinks to desired",
      d: deployment(2),
      newRS: rs("new", 5),
      old: [],
      ops: [["new", 5, 2]],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const step = rollingStep(c.d, c.newRS, c.old, false);
      assert.deepEqual(
        step.ops.map((o) => [o.name, o.from, o.to]),
        c.ops,
      );
    });
  }
  test("a complete rollout with nothing to scale asks for cleanup", () => {
    assert.deepEqual(rollingStep(deployment(2), rs("new", 2), [rs("old", 0)], true), {
      ops: [],
      cleanup: true,
    });
  });
  test("newRSNewReplicas never exceeds the desired count", () => {
    const d = deployment(3, { type: "RollingUpdate", rollingUpdate: { maxSurge: 10, maxUnavailable: 0 } });
    assert.equal(newRSNewReplicas(d, [rs("old", 1)], rs("new", 0)), 3);
  });
});

describe("Recreate", () => {
  const d = deployment(3, { type: "Recreate" });
  test("old sets go to 0 first", () => {
    const step = recreateStep(d, undefined, [rs("old", 3)], true, false);
    assert.deepEqual(
      step.ops.map((o) => [o.name, o.to]),
      [["old", 0]],
    );
    assert.equal(step.needsNewRS, false);
  });
  test("waits while old pods still run", () => {
    const step = recreateStep(d, undefined, [rs("old", 0)], true, false);
    assert.deepEqual([step.ops, step.wait, step.needsNewRS], [[], true, false]);
  });
  test("then needs the new set, then scales it to the desired count", () => {
    assert.equal(recreateStep(d, undefined, [rs("old", 0)], false, false).needsNewRS, true);
    const step = recreateStep(d, rs("new", 0), [rs("old", 0)], false, false);
    assert.deepEqual(
      step.ops.map((o) => [o.name, o.from, o.to]),
      [["new", 0, 3]],
    );
  });
});

describe("proportional scaling (a scaling event mid-rollout or while paused)", () => {
  test("one active set takes the whole new count", () => {
    const ops = proportionalScale(deployment(5), rs("new", 3), [rs("old", 0)]);
    assert.deepEqual(
      ops.map((o) => [o.name, o.from, o.to, o.up]),
      [["new", 3, 5, true]],
    );
  });
  test("two active sets share the added replicas by their max-replicas annotation", () => {
    // Was 10 replicas + 3 surge = 13 (annotations), now 20 + 5 = 25: 12 more to spread.
    const a = {
      "deployment.kubernetes.io/max-replicas": "13",
      "deployment.kubernetes.io/desired-replicas": "10",
    };
    const d = deployment(20);
    const ops = proportionalScale(d, rs("new", 5, 0, { created: "2026-01-02T00:00:00Z", annotations: a }), [
      rs("old", 8, 8, { annotations: a }),
    ]);
    const sizes = Object.fromEntries(ops.map((o) => [o.name, o.to]));
    assert.equal(sizes.old! + sizes.new!, 25);
    // old: round(8 * 25 / 13) - 8 = 7 more; new: round(5 * 25 / 13) - 5 = 5 more.
    assert.deepEqual(sizes, { old: 15, new: 10 });
  });
});

describe("revisions and the annotations a new ReplicaSet gets", () => {
  test("a new set gets the next revision and the replicas annotations; kube's own are not copied", () => {
    const d = deployment(3);
    d.metadata.annotations = {
      "deployment.kubernetes.io/revision": "7",
      "kubectl.kubernetes.io/last-applied-configuration": "{}",
      team: "ci",
    };
    const { annotations } = newReplicaSetAnnotations(d, undefined, 2, false);
    assert.deepEqual(annotations, {
      team: "ci",
      "deployment.kubernetes.io/revision": "2",
      "deployment.kubernetes.io/desired-replicas": "3",
      "deployment.kubernetes.io/max-replicas": "4",
    });
  });
  test("a set rolled back to keeps its old revisions in revision-history", () => {
    const { annotations, changed } = newReplicaSetAnnotations(
      deployment(1),
      { "deployment.kubernetes.io/revision": "1" },
      3,
      true,
    );
    assert.equal(changed, true);
    assert.equal(annotations["deployment.kubernetes.io/revision"], "3");
    assert.equal(annotations["deployment.kubernetes.io/revision-history"], "1");
  });
});

describe("cleanup beyond revisionHistoryLimit", () => {
  test("the oldest revisions without replicas go", () => {
    const d = deployment(1, undefined, { revisionHistoryLimit: 1 });
    const olds = [
      rs("r1", 0, 0, { annotations: { "deployment.kubernetes.io/revision": "1" } }),
      rs("r3", 0, 0, { annotations: { "deployment.kubernetes.io/revision": "3" } }),
      rs("r2", 1, 1, { annotations: { "deployment.kubernetes.io/revision": "2" } }),
    ];
    // r2 still has a replica: kept although it is beyond the limit.
    assert.deepEqual(cleanupCandidates(d, olds), ["r1"]);
  });
});

describe("status and conditions", () => {
  const now = new Date("2026-01-01T00:10:00Z");
  test("counts and Available", () => {
    const d = deployment(4);
    const s = calculateStatus(d, [rs("old", 2, 2), rs("new", 2, 1)], rs("new", 2, 1), now);
    assert.equal(s.replicas, 4);
    assert.equal(s.updatedReplicas, 2);
    assert.equal(s.availableReplicas, 3);
    assert.equal(s.unavailableReplicas, 1);
    assert.equal(s.conditions?.[0]?.reason, "MinimumReplicasAvailable");
    const low = calculateStatus(d, [rs("new", 4, 1)], rs("new", 4, 1), now);
    assert.equal(low.conditions?.[0]?.reason, "MinimumReplicasUnavailable");
    assert.equal(low.conditions?.[0]?.status, "False");
  });
  test("Progressing: ReplicaSetUpdated on progress, NewReplicaSetAvailable when complete", () => {
    const d = deployment(2);
    d.status = { replicas: 2, updatedReplicas: 1 };
    const moving = rolloutStatus(d, [rs("new", 2, 0)], rs("new", 2, 0), now).status!;
    const p = moving.conditions!.find((c) => c.type === "Progressing")!;
    assert.deepEqual(
      [p.status, p.reason, p.message],
      ["True", "ReplicaSetUpdated", 'ReplicaSet "new" is progressing.'],
    );
    const done = rolloutStatus(d, [rs("new", 2, 2)], rs("new", 2, 2), now).status!;
    const c = done.conditions!.find((x) => x.type === "Progressing")!;
    assert.deepEqual(
      [c.reason, c.message],
      ["NewReplicaSetAvailable", 'ReplicaSet "new" has successfully progressed.'],
    );
  });
  test("ProgressDeadlineExceeded once the deadline passed without progress", () => {
    const d = deployment(2, undefined, { progressDeadlineSeconds: 60 });
    const stale = "2026-01-01T00:00:00Z";
    d.status = {
      observedGeneration: 1,
      replicas: 2,
      updatedReplicas: 2,
      unavailableReplicas: 2,
      conditions: [
        {
          type: "Progressing",
          status: "True",
          reason: "ReplicaSetUpdated",
          lastUpdateTime: stale,
          lastTransitionTime: stale,
          message: "",
        },
      ],
    };
    const s = rolloutStatus(d, [rs("new", 2, 0)], rs("new", 2, 0), now).status!;
    const c = s.conditions!.find((x) => x.type === "Progressing")!;
    assert.deepEqual(
      [c.status, c.reason, c.message],
      ["False", "ProgressDeadlineExceeded", 'ReplicaSet "new" has timed out progressing.'],
    );
  });
  test("a ReplicaSet's ReplicaFailure is promoted to the Deployment", () => {
    const failing = rs("new", 1, 0, { actual: 0 });
    failing.status!.conditions = [
      {
        type: "ReplicaFailure",
        status: "True",
        reason: "FailedCreate",
        message: "forbidden",
        lastTransitionTime: "2026-01-01T00:00:00Z",
      },
    ];
    const s = rolloutStatus(deployment(1), [failing], failing, now).status!;
    const c = s.conditions!.find((x) => x.type === "ReplicaFailure")!;
    assert.deepEqual([c.status, c.reason, c.message], ["True", "FailedCreate", "forbidden"]);
  });
  test("paused and resumed", () => {
    const d = deployment(1, undefined, { paused: true });
    const paused = pausedConditionStatus(d, now)!;
    assert.equal(paused.conditions![0]!.reason, "DeploymentPaused");
    assert.equal(pausedConditionStatus({ ...d, status: paused }, now), undefined);
    const resumed = pausedConditionStatus({ ...d, spec: { ...d.spec, paused: false }, status: paused }, now)!;
    assert.deepEqual(
      [resumed.conditions![0]!.status, resumed.conditions![0]!.reason],
      ["Unknown", "DeploymentResumed"],
    );
  });
});
