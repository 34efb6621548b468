// Table tests of the test API server's pure parts: selectors, patches, request paths, history and
// snapshots behind watch/list resourceVersion semantics.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { builtinTypes } from "./builtins.ts";
import { coalesce } from "./coalesce.ts";
import { ApiError } from "./errors.ts";
import { formatTime, pruneUnknownFields } from "./known-fields.ts";
import { listObjects } from "./list.ts";
import { mergePatch, strategicMergePatch } from "./patch.ts";
import { Registry } from "./registry.ts";
import { parseRequestInfo } from "./request-info.ts";
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { Store } from "./storage.ts";

describe("label selectors", () => {
  const cases: [string, Record<string, string> | undefined, boolean][] = [
    ["", undefined, true],
    ["a=1", { a: "1" }, true],
    ["a==1", { a: "2" }, false],
    ["a!=1", {}, true],
    ["a!=1", { a: "1" }, false],
    ["a in (1, 2)", { a: "2" }, true],
    ["a notin (1,2)", { a: "3" }, true],
    ["a notin (1,2)", {}, true],
    ["a", { a: "" }, true],
    ["!a", { a: "" }, false],
    ["kiln.dev/build=x,!kiln.dev/done", { "kiln.dev/build": "x" }, true],
    ["kiln.dev/build=x,!kiln.dev/done", { "kiln.dev/build": "x", "kiln.dev/done": "y" }, false],
  ];
  for (const [selector, labels, expected] of cases) {
    test(`${JSON.stringify(selector)} on ${JSON.stringify(labels)} → ${expected}`, () => {
      assert.equal(matchesLabels(parseLabelSelector(selector), labels), expected);
    });
  }
  test("bad selectors are 400s", () => {
    for (const bad of ["a b", "a in 1", "-a=1", "a=(b)"]) {
      assert.throws(
        () => parseLabelSelector(bad),
        (e: unknown) => e instanceof ApiError && e.code === 400,
        bad,
      );
    }
  });
});

test("field selectors", () => {
  const s = parseFieldSelector("metadata.name=a,status.phase!=Failed");
  assert.equal(matchesFields(s, { "metadata.name": "a", "status.phase": "Running" }), true);
  assert.equal(matchesFields(s, { "metadata.name": "a", "status.phase": "Failed" }), false);
  assert.equal(matchesFields(parseFieldSelector("spec.nodeName="), { "spec.nodeName": "" }), true);
});

describe("patches", () => {
  test("merge patch: null deletes, objects merge, arrays replace", () => {
    assert.deepEqual(mergePatch({ a: { b: 1, c: 2 }, d: [1, 2] }, { a: { b: null, e: 3 }, d: [3] }), {
      a: { c: 2, e: 3 },
      d: [3],
    });
  });
  test("strategic merge: lists by merge key, $patch delete, finalizers as a set, $setElementOrder", () => {
    const pod = {
      metadata: { finalizers: ["a"] },
      spec: {
        containers: [
          { name: "x", image: "1", env: [{ name: "A", value: "1" }] },
          { name: "y", image: "1" },
        ],
        tolerations: [{ key: "k" }],
      },
    };
    const patched = strategicMergePatch(pod, {
      metadata: { finalizers: ["b", "a"] },
      spec: {
        $setElementOrder: undefined,
        "$setElementOrder/containers": [{ name: "y" }, { name: "x" }],
        containers: [
          { name: "x", env: [{ name: "B", value: "2" }] },
          { name: "y", $patch: "delete" },
        ],
        tolerations: [{ key: "z" }],
      },
    }) as typeof pod;
    assert.deepEqual(patched.metadata.finalizers, ["a", "b"]);
    assert.deepEqual(patched.spec.containers, [
      {
        name: "x",
        image: "1",
        env: [
          { name: "A", value: "1" },
          { name: "B", value: "2" },
        ],
      },
    ]);
    assert.deepEqual(patched.spec.tolerations, [{ key: "z" }], "lists without a merge key are replaced");
  });
});

describe("request paths", () => {
  const info = (method: string, path: string) => parseRequestInfo(method, new URL(path, "https://x"));
  test("namespaced, cluster-scoped, subresources, watch", () => {
    assert.deepEqual(
      { ...info("GET", "/apis/kiln.dev/v1alpha1/namespaces/ns/builds/b/status") },
      {
        isResourceRequest: true,
        path: "/apis/kiln.dev/v1alpha1/namespaces/ns/builds/b/status",
        group: "kiln.dev",
        version: "v1alpha1",
        namespace: "ns",
        resource: "builds",
        name: "b",
        subresource: "status",
        verb: "get",
      },
    );
    const ns = info("PUT", "/api/v1/namespaces/ns/finalize")!;
    assert.deepEqual(
      [ns.resource, ns.name, ns.subresource, ns.namespace, ns.verb],
      ["namespaces", "ns", "finalize", undefined, "update"],
    );
    assert.equal(info("GET", "/api/v1/pods?watch=true")!.verb, "watch");
    assert.equal(info("GET", "/api/v1/watch/namespaces/a/pods")!.verb, "watch");
    assert.equal(info("DELETE", "/api/v1/namespaces/a/pods")!.verb, "deletecollection");
    assert.equal(info("GET", "/healthz"), undefined);
  });
});

describe("history", () => {
  const registry = new Registry();
  for (const t of builtinTypes()) registry.add(t);
  const configmaps = registry.find("", "v1", "configmaps")!;
  const cm = (name: string, v: string) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "ns", uid: name },
    data: { v },
  });

  test("events since a resourceVersion, and 410 once they were dropped", () => {
    const store = new Store({ historySize: 3 });
    const first = store.create("/configmaps", cm("a", "0"));
    for (let i = 1; i <= 7; i++) store.update("/configmaps", cm("a", String(i)));
    const c = store.collection("/configmaps");
    assert.equal(c.eventsSince(Number(first.metadata.resourceVersion)), undefined, "compacted away");
    const recent = c.eventsSince(store.resourceVersion - 2)!;
    assert.deepEqual(
      recent.map((e) => e.type),
      ["MODIFIED", "MODIFIED"],
    );
  });

  test("an Exact list is reconstructed from history", () => {
    const store = new Store({ historySize: 100 });
    store.create("/configmaps", cm("a", "1"));
    const rv = store.resourceVersion;
    store.create("/configmaps", cm("b", "1"));
    store.update("/configmaps", cm("a", "2"));
    store.delete("/configmaps", "ns", "a");
    const c = store.collection("/configmaps");
    const query = new URLSearchParams({ resourceVersion: String(rv), resourceVersionMatch: "Exact" });
    const past = listObjects(configmaps, c, store.resourceVersion, { labels: [], fields: [] }, query);
    assert.deepEqual(
      past.items.map((o) => [o.metadata.name, (o.data as { v: string }).v]),
      [["a", "1"]],
    );
    assert.equal(past.resourceVersion, String(rv));
    const now = listObjects(
      configmaps,
      c,
      store.resourceVersion,
      { labels: [], fields: [] },
      new URLSearchParams(),
    );
    assert.deepEqual(
      now.items.map((o) => o.metadata.name),
      ["b"],
    );
  });
});

test("a new collection replays from any resourceVersion; one that replaces a dropped collection does not", () => {
  const store = new Store({ historySize: 10 });
  store.create("/configmaps", {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "a", namespace: "ns" },
  });
  const before = store.resourceVersion;
  store.create("g/things", { apiVersion: "g/v1", kind: "Thing", metadata: { name: "t" } });
  assert.deepEqual(
    store
      .collection("g/things")
      .eventsSince(1)
      ?.map((e) => e.type),
    ["ADDED"],
  );
  store.dropCollection("g/things");
  store.create("g/things", { apiVersion: "g/v1", kind: "Thing", metadata: { name: "u" } });
  assert.equal(store.collection("g/things").eventsSince(before), undefined, "410: list again");
});

test("times are re-encoded as kube encodes them: whole seconds, or microseconds for MicroTime", () => {
  assert.equal(formatTime("2026-11-22T00:48:46.531Z", false, "x"), "2026-11-22T00:48:46Z");
  assert.equal(formatTime("2026-11-22T02:48:46+02:00", false, "x"), "2026-11-22T00:48:46Z");
  assert.equal(formatTime("2026-11-22T00:48:46.5312345Z", true, "x"), "2026-11-22T00:48:46.531234Z");
  assert.equal(formatTime("2026-11-22T00:48:46Z", true, "x"), "2026-11-22T00:48:46.000000Z");
  assert.throws(
    () => formatTime("yesterday", false, "status.startTime"),
    (e: unknown) => e instanceof ApiError && e.code === 400,
  );
  const pod = {
    status: {
      startTime: "2026-11-22T00:48:46.531Z",
      containerStatuses: [{ state: { running: { startedAt: "2026-11-22T00:48:47.9Z" } } }],
    },
  };
  pruneUnknownFields(pod, "V1Pod");
  assert.equal(pod.status.startTime, "2026-11-22T00:48:46Z");
  assert.equal(pod.status.containerStatuses[0]!.state.running.startedAt, "2026-11-22T00:48:47Z");
});

test("coalesce: a key asked for many times is handled once per turn; keys asked for meanwhile wait", () => {
  const turns: (() => void)[] = [];
  const handled: string[] = [];
  const enqueue = coalesce<string>(
    (run) => turns.push(run),
    (key) => {
      handled.push(key);
      if (key === "a") enqueue("c");
    },
  );
  enqueue("a");
  enqueue("b");
  enqueue("a");
  assert.equal(turns.length, 1, "one turn scheduled for the burst");
  assert.deepEqual(handled, [], "nothing runs before the turn");
  turns.shift()!();
  assert.deepEqual(handled, ["a", "b"]);
  assert.equal(turns.length, 1, "the key asked for while handling gets its own turn");
  turns.shift()!();
  assert.deepEqual(handled, ["a", "b", "c"]);
});
