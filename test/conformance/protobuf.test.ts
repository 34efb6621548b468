// kubectl's imperative `create` commands send protobuf bodies (application/vnd.kubernetes.protobuf):
// the server decodes the workload kinds it serves to the same objects a JSON body would give.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";

const run = promisify(execFile);
const kubectl = resolve(import.meta.dirname, "../../.tools/bin/kubectl");
let cluster: TestCluster;

async function ok(...args: string[]): Promise<string> {
  const r = await run(kubectl, ["--request-timeout=10s", ...args], {
    env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, HOME: process.env.HOME ?? "/tmp" },
  });
  return r.stdout;
}

const json = async (...args: string[]) => JSON.parse(await ok("get", ...args, "-o", "json"));

before(async () => {
  cluster = await startTestCluster({ applyCRDs: false });
});
after(() => cluster?.stop());

describe("protobuf request bodies", { skip: !existsSync(kubectl) && "kubectl is not installed" }, () => {
  test("kubectl create service clusterip|nodeport", async () => {
    await ok("create", "service", "clusterip", "web", "--tcp=80:8080", "--tcp=443:web-tls");
    const svc = await json("service", "web");
    assert.deepEqual(svc.metadata.labels, { app: "web" });
    assert.deepEqual(svc.spec.selector, { app: "web" });
    assert.equal(svc.spec.type, "ClusterIP");
    assert.deepEqual(
      svc.spec.ports.map((p: Record<string, unknown>) => [p.name, p.port, p.targetPort, p.protocol]),
      [
        ["80-8080", 80, 8080, "TCP"],
        ["443-web-tls", 443, "web-tls", "TCP"],
      ],
    );
    await ok("create", "service", "nodeport", "np", "--tcp=80:80", "--node-port=30080");
    assert.equal((await json("service", "np")).spec.ports[0].nodePort, 30080);
  });

  test("kubectl create deployment, with replicas, a port and a command", async () => {
    await ok(
      "create",
      "deployment",
      "app",
      "--image=busybox:1.36",
      "--replicas=3",
      "--port=8080",
      "--",
      "sleep",
      "60",
    );
    const d = await json("deployment", "app");
    assert.equal(d.spec.replicas, 3);
    assert.deepEqual(d.spec.selector, { matchLabels: { app: "app" } });
    assert.deepEqual(d.spec.template.metadata.labels, { app: "app" });
    const [c] = d.spec.template.spec.containers;
    assert.equal(c.name, "busybox");
    assert.equal(c.image, "busybox:1.36");
    assert.deepEqual(c.command, ["sleep", "60"]);
    assert.deepEqual(c.ports, [{ containerPort: 8080, protocol: "TCP" }]);
    assert.equal(d.spec.template.spec.hostNetwork, undefined, "a false plain bool is omitted, as in JSON");
  });
});
