import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { planContainer } from "./container-plan.ts";
import type { EnvInputs } from "./env.ts";

const inputs: EnvInputs = {
  secrets: new Map([["s", { token: "t0k" }]]),
  configMaps: new Map(),
  podIP: "127.0.0.1",
  hostIP: "127.0.0.1",
  nodeName: "n",
  apiServer: { host: "127.0.0.1", port: 6443 },
  allocatable: { cpu: 2, memory: 2 ** 32, "ephemeral-storage": 2 ** 34 },
};
const runtime = { hostname: "p", kiln: { node: "/opt/node/bin/node", script: "/src/bin/kiln.ts" } };

function plan(c: Partial<V1Container>, podSc: NonNullable<V1Pod["spec"]>["securityContext"] = {}) {
  const container = { name: "c", image: "x", ...c };
  const pod: V1Pod = {
    metadata: { name: "p", namespace: "ns", uid: "u" },
    spec: { securityContext: podSc, containers: [container] },
  };
  return planContainer(pod, container, inputs, runtime);
}

test("a plan: env with runtime defaults, expanded argv, the user", () => {
  const r = plan(
    {
      command: ["kiln", "agent", "--token=$(TOKEN)"],
      env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "s", key: "token" } } }],
    },
    { runAsUser: 65532 },
  );
  assert.ok(r.ok);
  assert.deepEqual(r.plan.argv, ["/opt/node/bin/node", "/src/bin/kiln.ts", "agent", "--token=t0k"]);
  assert.equal(r.plan.env.get("HOME"), "/");
  assert.equal(r.plan.env.get("HOSTNAME"), "p");
  assert.equal(r.plan.env.get("KUBERNETES_SERVICE_PORT"), "6443");
  assert.equal(r.plan.security.uid, 65532);
});

test("why a container cannot start, and whether the kubelet retries", () => {
  const cases: [Partial<V1Container>, NonNullable<V1Pod["spec"]>["securityContext"], string, boolean][] = [
    [
      { command: ["x"], env: [{ name: "A", valueFrom: { secretKeyRef: { name: "missing", key: "k" } } }] },
      {},
      "CreateContainerConfigError",
      true,
    ],
    [{ command: ["x"] }, { runAsNonRoot: true }, "CreateContainerConfigError", false],
    [{ args: ["only-args"] }, {}, "CreateContainerError", false],
  ];
  for (const [c, sc, reason, retry] of cases) {
    const r = plan(c, sc);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, reason);
    assert.equal(!r.ok && r.retry, retry);
  }
});
