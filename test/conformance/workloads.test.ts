// Deployments run on the test cluster as on a real one, through real kubectl v1.34 and the process
// kubelet: a rollout to Ready pods (`kubectl rollout status` exits 0), `kubectl scale`, `kubectl rollout
// restart` replacing every pod, a deleted pod replaced, a refused pod creation reported (FailedCreate,
// ReplicaFailure), evictions against a PodDisruptionBudget, and the networking kinds an install ships.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { waitFor } from "../wait-for.ts";

const kubectlPath = resolve(import.meta.dirname, "../../.tools/bin/kubectl");
let cluster: TestCluster;
let core: CoreV1Api;

before(async () => {
  cluster = await startTestCluster({ applyCRDs: false, kubelet: true });
  core = cluster.kubeConfig.makeApiClient(CoreV1Api);
});

after(async () => {
  await cluster.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[], input?: string, killAfterMs = 90_000): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(kubectlPath, ["--request-timeout=30s", ...args], {
      env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, HOME: process.env.HOME ?? "/tmp" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    child.stdin.end(input ?? "");
  });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(" ")}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

const json = async <T>(args: string[]) => JSON.parse(await ok([...args, "-o", "json"])) as T;

async function namespace(name: string): Promise<string> {
  await ok(["create", "namespace", name]);
  return name;
}

/** A Deployment of `sleep` containers, ready at once (an exec probe), gone fast when deleted. */
function deploymentYaml(name: string, replicas: number, extra = ""): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox:1.36
        command: [sleep, "3600"]
        readinessProbe:
          exec: {command: ["true"]}
          periodSeconds: 1
${extra}`;
}

interface Item {
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

const livePods = async (ns: string, app: string) =>
  (await json<{ items: Item[] }>(["get", "pods", "-n", ns, "-l", `app=${app}`])).items.filter(
    (p) => !p.metadata.deletionTimestamp,
  );

describe("Deployments on the process kubelet", { timeout: 240_000 }, () => {
  test("2 replicas become 2 Ready pods; rollout status exits 0; get shows kube's columns", async () => {
    const ns = await namespace("deploy-basic");
    await ok(["apply", "-n", ns, "-f", "-"], deploymentYaml("web", 2));
    await ok(["rollout", "status", "-n", ns, "deployment/web", "--timeout=120s"]);
    const pods = await livePods(ns, "web");
    assert.equal(pods.length, 2);
    for (const p of pods) {
      assert.equal(p.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");
      assert.match(p.metadata.labels?.["pod-template-hash"] ?? "", /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    }
    const deploy = await ok(["get", "deploy", "-n", ns]);
    assert.match(deploy.split("\n")[0]!, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    assert.match(deploy.split("\n")[1]!, /^web\s+2\/2\s+2\s+2\s+/);
    const rs = await ok(["get", "rs", "-n", ns]);
    assert.match(rs.split("\n")[0]!, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE$/);
    const hash = pods[0]!.metadata.labels!["pod-template-hash"];
    assert.match(rs.split("\n")[1]!, new RegExp(`^web-${hash}\\s+2\\s+2\\s+2\\s+`));
    const d = await json<Item>(["get", "deploy", "web", "-n", ns]);
    assert.equal(d.metadata.annotations?.["deployment.kubernetes.io/revision"], "1");
    assert.deepEqual(
      d.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ["Available", "True", "MinimumReplicasAvailable"],
        ["Progressing", "True", "NewReplicaSetAvailable"],
      ],
    );
    const events = await ok([
      "get",
      "events",
      "-n",
      ns,
      "--field-selector",
      "involvedObject.kind=Deployment",
    ]);
    assert.match(
      events,
      new RegExp(`ScalingReplicaSet\\s+deployment/web\\s+Scaled up replica set web-${hash} from 0 to 2`),
    );
  });

  test("kubectl scale resizes through the scale subresource", async () => {
    const ns = await namespace("deploy-scale");
    await ok(["apply", "-n", ns, "-f", "-"], deploymentYaml("web", 1));
    await ok(["rollout", "status", "-n", ns, "deployment/web", "--timeout=120s"]);
    await ok(["scale", "-n", ns, "deployment/web", "--replicas=3"]);
    await ok(["rollout", "status", "-n", ns, "deployment/web", "--timeout=120s"]);
    assert.equal((await livePods(ns, "web")).length, 3);
    const scale = JSON.parse(
      await ok(["get", "--raw", `/apis/apps/v1/namespaces/${ns}/deployments/web/scale`]),
    );
    assert.deepEqual(
      [scale.kind, scale.apiVersion, scale.spec.replicas, scale.status.selector],
      ["Scale", "autoscaling/v1", 3, "app=web"],
    );
    await ok(["scale", "-n", ns, "deployment/web", "--replicas=1"]);
    await waitFor("one pod left", async () => (await livePods(ns, "web")).length === 1, 60_000);
  });

  test("rollout restart rolls every pod onto a new ReplicaSet; the old one is scaled to 0", async () => {
    const ns = await namespace("deploy-restart");
    await ok(
      ["apply", "-n", ns, "-f", "-"],
      deploymentYaml(
        "web",
        2,
        "  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}\n",
      ),
    );
    await ok(["rollout", "status", "-n", ns, "deployment/web", "--timeout=120s"]);
    const before = new Set((await livePods(ns, "web")).map((p) => p.metadata.name));
    await ok(["rollout", "restart", "-n", ns, "deployment/web"]);
    await ok(["rollout", "status", "-n", ns, "deployment/web", "--timeout=180s"]);
    await waitFor(
      "only new pods",
      async () => {
        const pods = await livePods(ns, "web");
        return pods.length === 2 && pods.every((p) => !before.has(p.metadata.name));
      },
      60_000,
    );
    const sets = (await json<{ items: (Item & { spec: { replicas: number } })[] }>(["get", "rs", "-n", ns]))
      .items;
    assert.deepEqual(
      sets
        .map((s) => [s.metadata.annotations?.["deployment.kubernetes.io/revision"], s.spec.replicas])
        .sort(),
      [
        ["1", 0],
        ["2", 2],
      ],
    );
    const history = await ok(["rollout", "history", "-n", ns, "deployment/web"]);
    assert.match(history, /^1\s+<none>$/m);
    assert.match(history, /^2\s+<none>$/m);
  });

  test("a deleted pod is replaced", async () => {
    const ns = await namespace("deploy-replace");
    await ok(["apply", "-n", ns, "-f", "-"], deploymentYaml("web", 1));
    await ok(["rollout", "status", "-n", ns, "deployment/web", "--timeout=120s"]);
    const [first] = await livePods(ns, "web");
    await ok(["delete", "pod", "-n", ns, first!.metadata.name, "--wait=false"]);
    const replacement = await waitFor(
      "a replacement pod",
      async () => (await livePods(ns, "web")).find((p) => p.metadata.name !== first!.metadata.name),
      60_000,
    );
    const events = await ok([
      "get",
      "events",
      "-n",
      ns,
      "--field-selector",
      "involvedObject.kind=ReplicaSet",
    ]);
    assert.match(
      events,
      new RegExp(`SuccessfulCreate\\s+replicaset/\\S+\\s+Created pod: ${replacement.metadata.name}`),
    );
    await ok(["rollout", "status", "-n", ns, "deployment/web", "--timeout=120s"]);
  });

  test("a refused pod creation: FailedCreate on the ReplicaSet, ReplicaFailure on both", async () => {
    const ns = await namespace("deploy-refused");
    const yaml = deploymentYaml("web", 1).replace(
      "      terminationGracePeriodSeconds: 1\n",
      "      serviceAccountName: missing\n",
    );
    await ok(["apply", "-n", ns, "-f", "-"], yaml);
    const d = await waitFor(
      "ReplicaFailure on the Deployment",
      async () => {
        const o = await json<Item>(["get", "deploy", "web", "-n", ns]);
        return o.status?.conditions?.find((c) => c.type === "ReplicaFailure") && o;
      },
      30_000,
    );
    const failure = d.status!.conditions!.find((c) => c.type === "ReplicaFailure")!;
    assert.equal(failure.reason, "FailedCreate");
    assert.match(
      failure.message!,
      /^pods "web-\S+" is forbidden: error looking up service account deploy-refused\/missing: serviceaccount "missing" not found$/,
    );
    const events = await ok(["get", "events", "-n", ns, "--field-selector", "reason=FailedCreate"]);
    assert.match(
      events,
      /Warning\s+FailedCreate\s+replicaset\/web-\S+\s+Error creating: pods "web-\S+" is forbidden: error looking up service account/,
    );
    // The ServiceAccount appears: the next retry creates the pod and the failure clears.
    await ok(["create", "serviceaccount", "missing", "-n", ns]);
    await ok(["rollout", "status", "-n", ns, "deployment/web", "--timeout=120s"]);
    await waitFor(
      "ReplicaFailure cleared",
      async () =>
        !(await json<Item>(["get", "deploy", "web", "-n", ns])).status?.conditions?.some(
          (c) => c.type === "ReplicaFailure",
        ),
      60_000,
    );
  });

  test("an eviction that would break a PodDisruptionBudget is refused with 429", async () => {
    const ns = await namespace("deploy-pdb");
    await ok(["apply", "-n", ns, "-f", "-"], deploymentYaml("web", 2));
    await ok(["rollout", "status", "-n", ns, "deployment/web", "--timeout=120s"]);
    await ok(
      ["apply", "-n", ns, "-f", "-"],
      "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  minAvailable: 2\n  selector: {matchLabels: {app: web}}\n",
    );
    await waitFor(
      "the budget observed",
      async () => {
        const s = await json<{ metadata: { generation: number }; status: Record<string, number> }>([
          "get",
          "pdb",
          "web",
          "-n",
          ns,
        ]);
        return s.status.observedGeneration === s.metadata.generation && s.status.currentHealthy === 2;
      },
      30_000,
    );
    const table = await ok(["get", "pdb", "-n", ns]);
    assert.match(
      table.split("\n")[0]!,
      /^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE$/,
    );
    assert.match(table.split("\n")[1]!, /^web\s+2\s+N\/A\s+0\s+/);
    const [victim] = await livePods(ns, "web");
    const evict = () =>
      core.createNamespacedPodEviction({
        name: victim!.metadata.name,
        namespace: ns,
        body: {
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name: victim!.metadata.name, namespace: ns },
        },
      });
    const refused = await evict().then(
      () => undefined,
      (e: { code?: number; body?: string }) => e,
    );
    assert.equal(refused?.code, 429);
    const status = JSON.parse(refused!.body!);
    assert.equal(status.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(status.details.causes, [
      {
        reason: "DisruptionBudget",
        message: "The disruption budget web needs 2 healthy pods and has 2 currently",
      },
    ]);
    // One disruption allowed: the eviction goes through and the pod is replaced.
    await ok(["patch", "pdb", "web", "-n", ns, "--type=merge", "-p", '{"spec":{"minAvailable":1}}']);
    await waitFor(
      "one disruption allowed",
      async () =>
        (await json<{ status: Record<string, number> }>(["get", "pdb", "web", "-n", ns])).status
          .disruptionsAllowed === 1,
      30_000,
    );
    await evict();
    const evicted = await core
      .readNamespacedPod({ name: victim!.metadata.name, namespace: ns })
      .catch(() => undefined);
    if (evicted)
      assert.equal(
        evicted.status?.conditions?.find((c) => c.type === "DisruptionTarget")?.reason,
        "EvictionByEvictionAPI",
      );
    await waitFor(
      "the evicted pod replaced",
      async () =>
        (await livePods(ns, "web")).filter((p) => p.metadata.name !== victim!.metadata.name).length === 2,
      60_000,
    );
  });
});

describe("networking kinds", { timeout: 60_000 }, () => {
  test("a NetworkPolicy and an Ingress apply and list; a bad Ingress is refused as kube refuses it", async () => {
    const ns = await namespace("networking");
    await ok(
      ["apply", "-n", ns, "-f", "-"],
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: webhook}
spec:
  podSelector: {matchLabels: {app: webhook}}
  ingress:
  - ports: [{port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: webhook}
spec:
  tls: [{hosts: [kiln.example.com], secretName: kiln-tls}]
  rules:
  - host: kiln.example.com
    http:
      paths:
      - {path: /hooks, pathType: Prefix, backend: {service: {name: kiln-webhook, port: {name: http}}}}
`,
    );
    const policies = await ok(["get", "netpol", "-n", ns]);
    assert.match(policies, /^webhook\s+app=webhook\s+/m);
    const np = await json<{ spec: { policyTypes: string[]; ingress: { ports: { protocol: string }[] }[] } }>([
      "get",
      "netpol",
      "webhook",
      "-n",
      ns,
    ]);
    assert.deepEqual([np.spec.policyTypes, np.spec.ingress[0]!.ports[0]!.protocol], [["Ingress"], "TCP"]);
    const ingresses = await ok(["get", "ingress", "-n", ns]);
    assert.match(ingresses.split("\n")[0]!, /^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE$/);
    assert.match(ingresses.split("\n")[1]!, /^webhook\s+nginx\s+kiln\.example\.com\s+80, 443\s+/);
    const bad = await kubectl(
      ["apply", "-n", ns, "-f", "-"],
      "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: bad}\nspec:\n  rules:\n  - host: kiln.example.com\n    http:\n      paths:\n      - {path: /, backend: {service: {name: web, port: {number: 80}}}}\n",
    );
    assert.notEqual(bad.code, 0);
    assert.match(
      bad.stderr,
      /spec\.rules\[0\]\.http\.paths\[0\]\.pathType: Required value: pathType must be specified/,
    );
  });
});
