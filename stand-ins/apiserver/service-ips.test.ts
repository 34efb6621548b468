// Services get what kube-apiserver allocates: a free cluster IP in 10.96.0.0/12, families and
// policies, node ports for NodePort; updates keep them; a taken or out-of-range IP is refused.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ApiError } from "./errors.ts";
import type { ResourceType } from "./registry.ts";
import { startTestApiServer, type TestApiServer } from "./server.ts";
import type { KubeObject } from "./storage.ts";

let server: TestApiServer;
let t: ResourceType;

before(async () => {
  server = await startTestApiServer();
  t = server.registry.find("", "v1", "services")!;
});
after(() => server.close());

const service = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name },
  spec: { ports: [{ port: 80 }], selector: { app: name }, ...spec },
});

test("a ClusterIP Service gets a cluster IP, families and policies, and an empty load balancer status", () => {
  const o = server.objects.create(t, "default", service("web", {})).object;
  const spec = o.spec as Record<string, unknown>;
  assert.match(String(spec.clusterIP), /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
  assert.deepEqual(spec.clusterIPs, [spec.clusterIP]);
  assert.deepEqual(
    [spec.ipFamilies, spec.ipFamilyPolicy, spec.internalTrafficPolicy],
    [["IPv4"], "SingleStack", "Cluster"],
  );
  assert.deepEqual(o.status, { loadBalancer: {} });
  // A PUT without the allocated fields keeps them.
  const { clusterIP: _ip, clusterIPs: _ips, ...rest } = spec;
  const updated = server.objects.update(t, "default", "web", { ...o, spec: rest }).object;
  assert.equal((updated.spec as Record<string, unknown>).clusterIP, spec.clusterIP);
  assert.throws(
    () =>
      server.objects.update(t, "default", "web", {
        ...o,
        spec: { ...spec, clusterIP: "10.96.0.9", clusterIPs: ["10.96.0.9"] },
      }),
    (e: unknown) =>
      e instanceof ApiError &&
      e.code === 422 &&
      /spec\.clusterIPs\[0\]: Invalid value: "10\.96\.0\.9": may not change once set/.test(e.message),
  );
  assert.throws(
    () => server.objects.create(t, "default", service("copy", { clusterIP: spec.clusterIP })),
    (e: unknown) =>
      e instanceof ApiError && e.code === 422 && /provided IP is already allocated/.test(e.message),
  );
});

test("out of range, headless and NodePort Services", () => {
  assert.throws(
    () => server.objects.create(t, "default", service("far", { clusterIP: "192.168.1.1" })),
    (e: unknown) =>
      e instanceof ApiError &&
      e.message.includes(
        "failed to allocate IP 192.168.1.1: provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12",
      ),
  );
  const headless = server.objects.create(t, "default", service("db", { clusterIP: "None" })).object
    .spec as Record<string, unknown>;
  assert.deepEqual([headless.clusterIPs, headless.ipFamilyPolicy], [["None"], "SingleStack"]);
  const external = server.objects.create(t, "default", {
    ...service("ext", { clusterIP: "None" }),
    spec: { clusterIP: "None" },
  }).object.spec as Record<string, unknown>;
  assert.equal(external.ipFamilyPolicy, "RequireDualStack");
  const np = server.objects.create(t, "default", service("np", { type: "NodePort" })).object.spec as {
    ports: { nodePort: number }[];
    externalTrafficPolicy: string;
  };
  assert.ok(np.ports[0]!.nodePort >= 30000 && np.ports[0]!.nodePort <= 32767);
  assert.equal(np.externalTrafficPolicy, "Cluster");
});
