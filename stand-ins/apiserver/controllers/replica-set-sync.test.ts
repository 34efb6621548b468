// Table tests of the ReplicaSet controller's pure parts and the helpers both controllers share.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeObject } from "../storage.ts";
import { claim } from "./claims.ts";
import type { ReplicaSet } from "./deployment-util.ts";
import { scaledValue } from "./int-or-percent.ts";
import { labelSelectorCauses, selectorMatches, selectorString } from "./label-selector.ts";
import { computeHash, equalIgnoreHash, safeEncodeString } from "./pod-template-hash.ts";
import {
  podFromTemplate,
  podsToDelete,
  replicaSetStatus,
  slowStartBatches,
  statusToWrite,
} from "./replica-set-sync.ts";

const NOW = new Date("2026-01-01T01:00:00Z");

function pod(
  name: string,
  o: { node?: string; phase?: string; ready?: string; created?: string; restarts?: number } = {},
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      uid: name,
      labels: { app: "web" },
      creationTimestamp: o.created ?? "2026-01-01T00:00:00Z",
    },
    spec: { nodeName: o.node ?? "node" },
    status: {
      phase: o.phase ?? "Running",
      conditions: o.ready ? [{ type: "Ready", status: "True", lastTransitionTime: o.ready }] : [],
      containerStatuses: [{ restartCount: o.restarts ?? 0 }],
    },
  };
}

const set: ReplicaSet = {
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name: "web-abc", namespace: "ns", uid: "rs-uid", generation: 2 },
  spec: {
    replicas: 3,
    minReadySeconds: 60,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web", tier: "a" } }, spec: { containers: [{ name: "c" }] } },
  },
  status: { replicas: 0 },
};

describe("which pods a shrinking ReplicaSet deletes first", () => {
  const cases: [string, KubeObject, KubeObject][] = [
    ["unscheduled before scheduled", pod("a", { node: "" }), pod("b", { ready: "2026-01-01T00:00:00Z" })],
    ["pending before running", pod("a", { phase: "Pending" }), pod("b")],
    ["not ready before ready", pod("a"), pod("b", { ready: "2026-01-01T00:00:00Z" })],
    [
      "ready more recently before ready longer",
      pod("a", { ready: "2026-01-01T00:59:00Z" }),
      pod("b", { ready: "2026-01-01T00:00:00Z" }),
    ],
    ["more restarts first", pod("a", { restarts: 5 }), pod("b")],
    [
      "newer before older",
      pod("a", { created: "2026-01-01T00:59:00Z" }),
      pod("b", { created: "2026-01-01T00:00:00Z" }),
    ],
  ];
  for (const [name, first, second] of cases) {
    test(name, () => {
      assert.deepEqual(
        podsToDelete([second, first], [], 1, NOW).map((p) => p.metadata.name),
        [first.metadata.name],
      );
    });
  }
});

describe("ReplicaSet status", () => {
  test("counts active pods; available means ready for longer than minReadySeconds", () => {
    const pods = [
      pod("old-ready", { ready: "2026-01-01T00:00:00Z" }),
      pod("just-ready", { ready: "2026-01-01T00:59:30Z" }),
      pod("starting"),
    ];
    const s = replicaSetStatus(set, pods, undefined, NOW);
    assert.deepEqual(s, { replicas: 3, readyReplicas: 2, availableReplicas: 1 });
    assert.equal(statusToWrite(set, s)?.observedGeneration, 2);
  });
  test("a failing create sets ReplicaFailure FailedCreate with the error, success removes it", () => {
    const failed = replicaSetStatus(set, [], 'pods "web-abc-" is forbidden: nope', NOW);
    assert.deepEqual(failed.conditions, [
      {
        type: "ReplicaFailure",
        status: "True",
        lastTransitionTime: "2026-01-01T01:00:00Z",
        reason: "FailedCreate",
        message: 'pods "web-abc-" is forbidden: nope',
      },
    ]);
    const healed = replicaSetStatus({ ...set, status: failed }, [], undefined, NOW);
    assert.equal(healed.conditions, undefined);
  });
  test("an unchanged status is not written", () => {
    const s = { replicas: 0, observedGeneration: 2 };
    assert.equal(
      statusToWrite({ ...set, status: s }, replicaSetStatus({ ...set, status: s }, [], undefined, NOW)),
      undefined,
    );
  });
});

test("a pod from the template: labels, generateName, controller reference", () => {
  const p = podFromTemplate(set);
  assert.equal(p.metadata.generateName, "web-abc-");
  assert.deepEqual(p.metadata.labels, { app: "web", tier: "a" });
  assert.deepEqual(p.metadata.ownerReferences, [
    {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      name: "web-abc",
      uid: "rs-uid",
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
});

test("slow start: 1, 2, 4, … up to the count", () => {
  assert.deepEqual(slowStartBatches(10), [1, 2, 4, 3]);
  assert.deepEqual(slowStartBatches(0), []);
});

describe("claiming (ControllerRefManager)", () => {
  const owner = { uid: "me", namespace: "ns", deleting: false };
  const withRef = (uid: string): KubeObject => ({
    metadata: {
      name: "p",
      namespace: "ns",
      ownerReferences: [{ apiVersion: "v1", kind: "X", name: "x", uid, controller: true }],
    },
  });
  const orphan: KubeObject = { metadata: { name: "p", namespace: "ns" } };
  const cases: [string, Parameters<typeof claim>[0], KubeObject, boolean, string][] = [
    ["owned and selected", owner, withRef("me"), true, "owned"],
    ["owned, no longer selected", owner, withRef("me"), false, "release"],
    ["someone else's", owner, withRef("other"), true, "ignore"],
    ["a selected orphan", owner, orphan, true, "adopt"],
    ["an orphan while the owner is deleted", { ...owner, deleting: true }, orphan, true, "ignore"],
    [
      "an orphan being deleted",
      owner,
      { metadata: { ...orphan.metadata, deletionTimestamp: "x" } },
      true,
      "ignore",
    ],
  ];
  for (const [name, o, obj, selected, want] of cases)
    test(name, () => assert.equal(claim(o, obj, selected), want));
});

describe("label selectors", () => {
  test("nil selects nothing, empty everything", () => {
    assert.equal(selectorMatches(undefined, { a: "b" }), false);
    assert.equal(selectorMatches({}, { a: "b" }), true);
  });
  test("string form sorts by key and values", () => {
    assert.equal(
      selectorString({
        matchLabels: { b: "2", a: "1" },
        matchExpressions: [{ key: "c", operator: "In", values: ["y", "x"] }],
      }),
      "a=1,b=2,c in (x,y)",
    );
  });
  test("validation of requirements", () => {
    const causes = labelSelectorCauses(
      {
        matchExpressions: [
          { key: "a", operator: "In" },
          { key: "b", operator: "Foo" },
        ],
      },
      "spec.selector",
    );
    assert.deepEqual(
      causes.map((c) => c.field),
      ["spec.selector.matchExpressions[0].values", "spec.selector.matchExpressions[1].operator"],
    );
  });
});

describe("int or percent", () => {
  const cases: [number | string, number, boolean, number][] = [
    ["25%", 2, true, 1],
    ["25%", 2, false, 0],
    ["50%", 5, true, 3],
    [3, 10, true, 3],
  ];
  for (const [v, total, up, want] of cases)
    test(`${v} of ${total}, ${up ? "up" : "down"}`, () => assert.equal(scaledValue(v, total, up), want));
  test("a string that is not a percentage is an error", () =>
    assert.throws(() => scaledValue("3", 10, true)));
});

describe("pod-template-hash", () => {
  const template = {
    metadata: { labels: { app: "web" } },
    spec: { containers: [{ name: "c", image: "x" }] },
  };
  test("kube's alphabet, stable, different for another template or collision count", () => {
    const h = computeHash(template, undefined);
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(computeHash(structuredClone(template), undefined), h);
    assert.notEqual(
      computeHash({ ...template, spec: { containers: [{ name: "c", image: "y" }] } }, undefined),
      h,
    );
    assert.notEqual(computeHash(template, 1), h);
  });
  test("SafeEncodeString maps each character", () => assert.equal(safeEncodeString("0123"), "4567"));
  test("templates equal apart from the hash label and empty fields", () => {
    const hashed = {
      metadata: { labels: { app: "web", "pod-template-hash": "abc" }, annotations: {} },
      spec: template.spec,
    };
    assert.equal(equalIgnoreHash(template, hashed), true);
    assert.equal(equalIgnoreHash(template, { ...hashed, spec: { containers: [] } }), false);
  });
});
