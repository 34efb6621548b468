import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { type EnvInputs, referencedObjects, resolveEnv } from "./env.ts";
import { parseQuantity } from "./quantity.ts";

const inputs: EnvInputs = {
  secrets: new Map<string, Record<string, string>>([
    ["creds", { user: "alice", password: "s3cret" }],
    ["bulk", { A: "1", "bad key": "x" }],
  ]),
  configMaps: new Map<string, Record<string, string>>([["settings", { mode: "fast", B: "2" }]]),
  podIP: "127.0.0.1",
  hostIP: "127.0.0.2",
  nodeName: "node-a",
  apiServer: { host: "127.0.0.1", port: 6443 },
  allocatable: { cpu: 4, memory: 8 * 2 ** 30, "ephemeral-storage": 100 * 2 ** 30 },
};

function pod(container: Partial<V1Container>): V1Pod {
  return {
    metadata: { name: "p1", namespace: "ns1", uid: "u-1", labels: { app: "web", tier: "a b" } },
    spec: {
      serviceAccountName: "builder",
      containers: [{ name: "main", command: ["true"], ...container }],
    },
  };
}

function envOf(container: Partial<V1Container>): Record<string, string> {
  const p = pod(container);
  const r = resolveEnv(p, p.spec!.containers[0]!, inputs);
  assert.ok(r.ok, r.ok ? "" : r.message);
  return Object.fromEntries(r.env);
}

describe("resolveEnv", () => {
  const cases: [string, Partial<V1Container>, Record<string, string>][] = [
    ["plain value", { env: [{ name: "X", value: "1" }] }, { X: "1" }],
    [
      "expansion of earlier vars only",
      {
        env: [
          { name: "A", value: "a" },
          { name: "B", value: "$(A)-$(C)" },
          { name: "C", value: "c" },
        ],
      },
      { A: "a", B: "a-$(C)", C: "c" },
    ],
    [
      "expansion of service vars",
      { env: [{ name: "U", value: "$(KUBERNETES_SERVICE_HOST)" }] },
      { U: "127.0.0.1" },
    ],
    [
      "secret and configmap keys",
      {
        env: [
          { name: "USER", valueFrom: { secretKeyRef: { name: "creds", key: "user" } } },
          { name: "MODE", valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } } },
        ],
      },
      { USER: "alice", MODE: "fast" },
    ],
    [
      "field refs",
      {
        env: [
          { name: "N", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
          { name: "UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
          { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "HOST", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
          { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
        ],
      },
      {
        N: "p1",
        NS: "ns1",
        UID: "u-1",
        APP: "web",
        IP: "127.0.0.1",
        HOST: "127.0.0.2",
        NODE: "node-a",
        SA: "builder",
      },
    ],
    [
      "resource refs",
      {
        resources: { limits: { cpu: "1500m", memory: "1Gi" }, requests: { cpu: "250m" } },
        env: [
          { name: "CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
          { name: "REQ", valueFrom: { resourceFieldRef: { resource: "requests.cpu", divisor: "1m" } } },
          { name: "MEM", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
          {
            name: "REQMEM",
            valueFrom: { resourceFieldRef: { resource: "requests.memory", divisor: "1Mi" } },
          },
        ],
      },
      { CPU: "2", REQ: "250", MEM: "1024", REQMEM: "1024" },
    ],
    [
      "unset limit is node allocatable",
      { env: [{ name: "CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } }] },
      { CPU: "4" },
    ],
    [
      "envFrom with prefix, invalid keys skipped, env overrides",
      {
        envFrom: [{ secretRef: { name: "bulk" } }, { configMapRef: { name: "settings" }, prefix: "CM_" }],
        env: [{ name: "A", value: "override-$(CM_B)" }],
      },
      { A: "override-2", CM_mode: "fast", CM_B: "2" },
    ],
    [
      "optional missing refs leave the variable unset",
      {
        envFrom: [{ secretRef: { name: "nope", optional: true } }],
        env: [
          { name: "X", valueFrom: { secretKeyRef: { name: "nope", key: "k", optional: true } } },
          { name: "Y", valueFrom: { configMapKeyRef: { name: "settings", key: "nokey", optional: true } } },
        ],
      },
      {},
    ],
    ["user value overrides a service var", { env: [{ name: "KUBERNETES_SERVICE_HOST", value: "x" }] }, {}],
  ];
  for (const [name, container, want] of cases) {
    test(name, () => {
      const got = envOf(container);
      for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, k);
      if (name.startsWith("optional")) {
        assert.equal(got.X, undefined);
        assert.equal(got.Y, undefined);
      }
      if (name.startsWith("user value")) assert.equal(got.KUBERNETES_SERVICE_HOST, "x");
      else assert.equal(got.KUBERNETES_SERVICE_HOST, "127.0.0.1");
      assert.equal(got.KUBERNETES_SERVICE_PORT, "6443");
      assert.equal(got["bad key"], undefined);
    });
  }

  const failures: [string, Partial<V1Container>, string][] = [
    [
      "missing secret",
      { env: [{ name: "X", valueFrom: { secretKeyRef: { name: "nope", key: "k" } } }] },
      'secret "nope" not found',
    ],
    [
      "missing key",
      { env: [{ name: "X", valueFrom: { secretKeyRef: { name: "creds", key: "k" } } }] },
      "couldn't find key k in Secret ns1/creds",
    ],
    [
      "missing configmap in envFrom",
      { envFrom: [{ configMapRef: { name: "nope" } }] },
      'configmap "nope" not found',
    ],
    [
      "missing configmap key",
      { env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "settings", key: "k" } } }] },
      "couldn't find key k in ConfigMap ns1/settings",
    ],
    [
      "unknown field",
      { env: [{ name: "X", valueFrom: { fieldRef: { fieldPath: "spec.bogus" } } }] },
      'unsupported fieldRef fieldPath "spec.bogus"',
    ],
  ];
  for (const [name, container, message] of failures) {
    test(`fails: ${name}`, () => {
      const p = pod(container);
      const r = resolveEnv(p, p.spec!.containers[0]!, inputs);
      assert.deepEqual(r, { ok: false, reason: "CreateContainerConfigError", message });
    });
  }
});

test("referencedObjects covers env, envFrom and volumes", () => {
  const p = pod({
    envFrom: [{ secretRef: { name: "s1" } }, { configMapRef: { name: "c1" } }],
    env: [{ name: "X", valueFrom: { secretKeyRef: { name: "s2", key: "k" } } }],
  });
  p.spec!.volumes = [
    { name: "v", secret: { secretName: "s3" } },
    { name: "w", projected: { sources: [{ configMap: { name: "kube-root-ca.crt" } }] } },
  ];
  const refs = referencedObjects(p);
  assert.deepEqual([...refs.secrets].sort(), ["s1", "s2", "s3"]);
  assert.deepEqual([...refs.configMaps].sort(), ["c1", "kube-root-ca.crt"]);
});

test("parseQuantity", () => {
  const cases: [string, number][] = [
    ["1", 1],
    ["500m", 0.5],
    ["1Gi", 2 ** 30],
    ["2k", 2000],
    ["1e3", 1000],
    ["0.5", 0.5],
    ["128Mi", 128 * 2 ** 20],
  ];
  for (const [q, n] of cases) assert.equal(parseQuantity(q), n, q);
  assert.throws(() => parseQuantity("lots"), /invalid quantity/);
});
