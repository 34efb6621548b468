import { describe, test } from "node:test";
import type { KubernetesObject } from "@kubernetes/client-node";
import { waitFor } from "../../test/wait-for.ts";
import { silentLogger } from "../log.ts";
import { Controller } from "./controller.ts";
import { TerminalError } from "./errors.ts";
import { Informer, type InformerSource } from "./informer.ts";
import { controllerOwnerKey, keyOf, type ObjectKey } from "./keys.ts";

function staticSource(items: KubernetesObject[]): InformerSource<KubernetesObject> {
  return {
    list: async () => ({ items, metadata: { resourceVersion: "1" } }),
    watch: async () => ({ abort() {} }),
  };
}

describe("Controller", () => {
  test("keys come from objects and their controlling owners; errors retry, requeueAfter comes back, terminal stops", async (t) => {
    const builds = new Informer(
      "builds",
      staticSource([
        { metadata: { name: "ok", namespace: "ci" } },
        { metadata: { name: "flaky", namespace: "ci" } },
        { metadata: { name: "bad", namespace: "ci" } },
        { metadata: { name: "later", namespace: "ci" } },
      ]),
      { resyncMs: 0 },
    );
    const pods = new Informer(
      "pods",
      staticSource([
        {
          metadata: {
            name: "ok-pod",
            namespace: "ci",
            ownerReferences: [
              { apiVersion: "kiln.dev/v1alpha1", kind: "Build", name: "ok", uid: "1", controller: true },
            ],
          },
        },
      ]),
      { resyncMs: 0 },
    );
    const calls: string[] = [];
    let flakyFailures = 2;
    let laterCalls = 0;
    const controller = new Controller({
      name: "test",
      log: silentLogger(),
      workers: 2,
      rateLimit: { baseDelayMs: 1 },
      watches: [
        { informer: builds, keys: keyOf },
        { informer: pods, keys: (p) => controllerOwnerKey(p, "kiln.dev/v1alpha1", "Build") },
      ],
      async reconcile(key: ObjectKey) {
        calls.push(key.name);
        if (key.name === "flaky" && flakyFailures-- > 0) throw new Error("transient");
        if (key.name === "bad") throw new TerminalError("Invalid", "cannot ever work");
        if (key.name === "later" && laterCalls++ === 0) return { requeueAfter: 10 };
      },
    });
    await controller.start();
    await waitFor(
      "three flaky and two later reconciles",
      () => calls.filter((c) => c === "flaky").length === 3 && laterCalls === 2,
      2000,
    );
    await new Promise((r) => setTimeout(r, 30));
    await controller.stop();
    t.assert.equal(calls.filter((c) => c === "bad").length, 1, "terminal errors are not retried");
    t.assert.equal(
      calls.filter((c) => c === "ok").length,
      1,
      "the pod's event and the build's dedup into one reconcile",
    );
    t.assert.equal(calls.filter((c) => c === "flaky").length, 3);
    t.assert.equal(controller.queue.retries("ci/flaky"), 0, "backoff forgotten after success");
  });
});
