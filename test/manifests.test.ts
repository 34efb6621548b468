// What `kubectl apply -k manifests/` installs: every object valid against the Kubernetes schemas,
// RBAC least-privilege, Kiln's own pods hardened.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, test } from "node:test";
import { parseAllDocuments } from "yaml";

const root = resolve(import.meta.dirname, "..");
const kubectl = resolve(root, ".tools/bin/kubectl");

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}
interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

function renderInstall(): K8sObject[] {
  const text = execFileSync(kubectl, ["kustomize", resolve(root, "manifests")], { encoding: "utf8" });
  return parseAllDocuments(text).map((doc) => doc.toJS() as K8sObject);
}

async function modelClass(apiVersion: string, kind: string) {
  // kubernetes-models lays out classes as <group>/<version>/<Kind>, the core group as v1/<Kind>.
  const module = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<
    string,
    new (
      data: unknown,
    ) => { validate(): void }
  >;
  const model = module[kind];
  if (!model) throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return model;
}

const objects = renderInstall();
const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
const rulesOf = (name: string) =>
  (objects.find((o) => (o.kind === "ClusterRole" || o.kind === "Role") && o.metadata.name === name)?.rules ??
    []) as PolicyRule[];

describe("install manifests (kubectl kustomize manifests/)", () => {
  test("render the CRDs, RBAC and the three deployments into the kiln namespace", (t) => {
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const expected of [
      "Namespace/kiln",
      "CustomResourceDefinition/builds.kiln.dev",
      "CustomResourceDefinition/repositories.kiln.dev",
      "Deployment/kiln-controller",
      "Deployment/kiln-webhook",
      "Service/kiln-webhook",
      "Service/kiln-controller-metrics",
      "ConfigMap/kiln-config",
      "PodDisruptionBudget/kiln-controller",
      "PodDisruptionBudget/kiln-webhook",
      "NetworkPolicy/kiln-webhook",
      "NetworkPolicy/kiln-controller",
      "ClusterRole/kiln-build-agent",
      "Deployment/kiln-store",
      "Service/kiln-store",
      "PersistentVolumeClaim/kiln-store",
      "ServiceAccount/kiln-store",
      "ClusterRole/kiln-store",
      "ClusterRoleBinding/kiln-store",
      "ClusterRole/kiln-build-log-reader",
      "ClusterRoleBinding/kiln-webhook-build-logs",
      "NetworkPolicy/kiln-store",
    ]) {
      assert.ok(names.includes(expected), `${expected} missing from ${names.join(", ")}`);
    }
    for (const o of objects) {
      const clusterScoped = ["Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"];
      if (!clusterScoped.includes(o.kind))
        t.assert.equal(o.metadata.namespace, "kiln", `${o.kind}/${o.metadata.name}`);
    }
  });

  test("every object is valid against the Kubernetes OpenAPI schemas", async () => {
    for (const o of objects) {
      const Model = await modelClass(o.apiVersion, o.kind);
      new Model(o).validate();
    }
  });

  test("no role grants wildcards, and only the controller may create pods", (t) => {
    for (const role of [...byKind("ClusterRole"), ...byKind("Role")]) {
      for (const rule of (role.rules ?? []) as PolicyRule[]) {
        assert.ok(
          !rule.verbs.includes("*") && !rule.resources.includes("*"),
          `${role.metadata.name}: wildcard`,
        );
      }
    }
    const canCreatePods = (name: string) =>
      rulesOf(name).some((r) => r.resources.includes("pods") && r.verbs.includes("create"));
    t.assert.equal(canCreatePods("kiln-controller"), true);
    t.assert.equal(canCreatePods("kiln-webhook"), false);
    t.assert.equal(canCreatePods("kiln-build-agent"), false);
    t.assert.equal(canCreatePods("kiln-store"), false);
  });

  test("the store reviews tokens and access, gets pods and Builds, and reads no Secret", (t) => {
    t.assert.deepEqual(
      rulesOf("kiln-store").map((r) => ({ groups: r.apiGroups, resources: r.resources, verbs: r.verbs })),
      [
        { groups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
        { groups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
        { groups: [""], resources: ["pods"], verbs: ["get"] },
        { groups: ["kiln.dev"], resources: ["builds"], verbs: ["get"] },
      ],
    );
    const binding = objects.find(
      (o) => o.kind === "ClusterRoleBinding" && o.metadata.name === "kiln-store",
    ) as unknown as {
      roleRef: { name: string };
      subjects: Array<{ kind: string; name: string; namespace: string }>;
    };
    t.assert.equal(binding.roleRef.name, "kiln-store");
    t.assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "kiln-store", namespace: "kiln" }]);
    // Reading logs is `get builds/log`, which whoever may view a namespace gets (aggregated into view).
    const reader = objects.find(
      (o) => o.kind === "ClusterRole" && o.metadata.name === "kiln-build-log-reader",
    ) as unknown as {
      metadata: { labels: Record<string, string> };
      rules: PolicyRule[];
    };
    t.assert.equal(reader.metadata.labels["rbac.authorization.k8s.io/aggregate-to-view"], "true");
    t.assert.deepEqual(reader.rules, [
      { apiGroups: ["kiln.dev"], resources: ["builds/log"], verbs: ["get"] },
    ]);
  });

  test("the store keeps its data on its volume, where KILN_STORE_DIR says, and restarts by Recreate", (t) => {
    const store = byKind("Deployment").find((d) => d.metadata.name === "kiln-store")!.spec as {
      replicas: number;
      strategy: { type: string };
      template: {
        spec: {
          serviceAccountName: string;
          securityContext: { fsGroup?: number };
          volumes: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>;
          containers: Array<{
            args: string[];
            ports: Array<{ name: string; containerPort: number }>;
            readinessProbe: { httpGet: { path: string; port: string } };
            volumeMounts: Array<{ name: string; mountPath: string }>;
          }>;
        };
      };
    };
    const pod = store.template.spec;
    const container = pod.containers[0]!;
    const config = byKind("ConfigMap").find((c) => c.metadata.name === "kiln-config") as unknown as {
      data: Record<string, string>;
    };
    t.assert.deepEqual(container.args, ["store"]);
    t.assert.equal(pod.serviceAccountName, "kiln-store");
    t.assert.equal(store.replicas, 1);
    t.assert.equal(
      store.strategy.type,
      "Recreate",
      "a ReadWriteOnce volume cannot be in two pods during a rollout",
    );
    t.assert.equal(pod.securityContext.fsGroup, 10001, "the volume is writable for Kiln's user");
    const mount = container.volumeMounts.find((m) => m.mountPath === config.data.KILN_STORE_DIR);
    assert.ok(mount, `a volume at KILN_STORE_DIR (${config.data.KILN_STORE_DIR})`);
    t.assert.equal(
      pod.volumes.find((v) => v.name === mount.name)?.persistentVolumeClaim?.claimName,
      "kiln-store",
    );
    t.assert.equal(config.data.KILN_STORE_BACKEND, "files");
    t.assert.deepEqual(
      container.ports.map((p) => [p.name, p.containerPort]),
      [
        ["http", 8081],
        ["metrics", 9091],
      ],
      "the ports kiln store listens on by default",
    );
    t.assert.deepEqual(container.readinessProbe.httpGet, { path: "/readyz", port: "http" });
    const claim = objects.find((o) => o.kind === "PersistentVolumeClaim") as unknown as {
      spec: { accessModes: string[]; resources: { requests: { storage: string } } };
    };
    t.assert.deepEqual(claim.spec.accessModes, ["ReadWriteOnce"]);
  });

  test("only build pods, the controller and the webhook reach the store's API; build pods not its metrics", (t) => {
    const policy = byKind("NetworkPolicy").find((p) => p.metadata.name === "kiln-store")!.spec as {
      podSelector: { matchLabels: Record<string, string> };
      ingress: Array<{ ports: Array<{ port: string }>; from: Array<Record<string, unknown>> }>;
    };
    t.assert.deepEqual(policy.podSelector.matchLabels, {
      "app.kubernetes.io/name": "kiln",
      "app.kubernetes.io/component": "store",
    });
    const [api, metrics] = policy.ingress;
    t.assert.deepEqual(api?.ports, [{ port: "http" }]);
    t.assert.deepEqual(api?.from, [
      {
        namespaceSelector: {},
        podSelector: { matchExpressions: [{ key: "kiln.dev/build", operator: "Exists" }] },
      },
      {
        podSelector: {
          matchLabels: { "app.kubernetes.io/name": "kiln", "app.kubernetes.io/component": "controller" },
        },
      },
      {
        podSelector: {
          matchLabels: { "app.kubernetes.io/name": "kiln", "app.kubernetes.io/component": "webhook" },
        },
      },
    ]);
    t.assert.deepEqual(metrics?.ports, [{ port: "metrics" }]);
    t.assert.deepEqual(metrics?.from, [
      {
        namespaceSelector: {},
        podSelector: { matchExpressions: [{ key: "kiln.dev/build", operator: "DoesNotExist" }] },
      },
    ]);
    t.assert.equal(policy.ingress.length, 2);
  });

  test("the build agent's account can only read Builds and patch their status", (t) => {
    t.assert.deepEqual(
      rulesOf("kiln-build-agent").map((r) => ({ resources: r.resources, verbs: r.verbs })),
      [
        { resources: ["builds"], verbs: ["get", "list", "watch"] },
        { resources: ["builds/status"], verbs: ["get", "patch"] },
      ],
    );
    // The controller keeps the account itself, in each Repository namespace (build-access.ts).
    t.assert.equal(
      objects.some((o) => o.kind === "ServiceAccount" && o.metadata.name === "kiln-build"),
      false,
    );
  });

  test("the internet-facing webhook reads no Secret; the controller only gets Secrets by name", (t) => {
    const secretRules = (name: string) => rulesOf(name).filter((r) => r.resources.includes("secrets"));
    t.assert.deepEqual(secretRules("kiln-webhook"), []);
    t.assert.deepEqual(secretRules("kiln-store"), []);
    t.assert.deepEqual(
      secretRules("kiln-controller").map((r) => r.verbs),
      [["get"]],
    );
    // It may bind the agent's ClusterRole in build namespaces, and no other.
    const bind = rulesOf("kiln-controller").filter((r) => r.verbs.includes("bind"));
    t.assert.deepEqual(
      bind.map((r) => ({ resources: r.resources, names: (r as { resourceNames?: string[] }).resourceNames })),
      [{ resources: ["clusterroles"], names: ["kiln-build-agent"] }],
    );
    assert.ok(rulesOf("kiln-controller").some((r) => r.resources.includes("builds/finalizers")));
  });

  test("the webhook's build pages: Builds listed and watched, logs read as kiln-build-log-reader with its own store token", (t) => {
    t.assert.deepEqual(
      rulesOf("kiln-webhook").map((r) => ({ groups: r.apiGroups, resources: r.resources, verbs: r.verbs })),
      [
        { groups: ["kiln.dev"], resources: ["repositories"], verbs: ["get", "list", "watch"] },
        { groups: ["kiln.dev"], resources: ["builds"], verbs: ["get", "list", "watch", "create"] },
        { groups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
        { groups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
      ],
    );
    const binding = objects.find(
      (o) => o.kind === "ClusterRoleBinding" && o.metadata.name === "kiln-webhook-build-logs",
    ) as unknown as { roleRef: { name: string }; subjects: Array<{ name: string; namespace: string }> };
    t.assert.equal(binding.roleRef.name, "kiln-build-log-reader");
    t.assert.deepEqual(
      binding.subjects.map((s) => `${s.namespace}/${s.name}`),
      ["kiln/kiln-webhook"],
    );
    const pod = (
      byKind("Deployment").find((d) => d.metadata.name === "kiln-webhook")!.spec as {
        template: { spec: Record<string, unknown> };
      }
    ).template.spec as {
      volumes: Array<{
        name: string;
        projected?: { sources: Array<{ serviceAccountToken?: { audience: string; path: string } }> };
      }>;
      containers: Array<{ volumeMounts?: Array<{ name: string; mountPath: string }> }>;
    };
    const token = pod.volumes.find((v) => v.projected)!;
    t.assert.deepEqual(
      {
        audience: token.projected!.sources[0]!.serviceAccountToken!.audience,
        path: token.projected!.sources[0]!.serviceAccountToken!.path,
      },
      { audience: "kiln-store", path: "token" },
    );
    const mount = pod.containers[0]!.volumeMounts!.find((m) => m.name === token.name)!;
    const config = objects.find(
      (o) => o.kind === "ConfigMap" && o.metadata.name === "kiln-config",
    ) as unknown as {
      data: Record<string, string>;
    };
    t.assert.equal(
      config.data.KILN_STORE_TOKEN_FILE,
      `${mount.mountPath}/token`,
      "where KILN_STORE_TOKEN_FILE says",
    );
    t.assert.equal(config.data.KILN_PAGE_AUTH, "false");
  });

  test("every setting comes from the kiln-config ConfigMap: no env entry shadows it", (t) => {
    for (const deployment of byKind("Deployment")) {
      const pod = (deployment.spec as { template: { spec: Record<string, unknown> } }).template.spec;
      for (const c of pod.containers as Array<{
        env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
        envFrom?: Array<{ configMapRef?: { name: string } }>;
      }>) {
        t.assert.deepEqual(
          (c.env ?? []).filter((e) => e.valueFrom === undefined).map((e) => e.name),
          [],
          `${deployment.metadata.name}: literal env entries`,
        );
        assert.ok(c.envFrom?.some((e) => e.configMapRef?.name === "kiln-config"));
      }
    }
  });

  test("probes and scratch space: the webhook is ready with its cache, the controller has a /tmp", (t) => {
    const podOf = (name: string) =>
      (
        byKind("Deployment").find((d) => d.metadata.name === name)!.spec as {
          template: { spec: Record<string, unknown> };
        }
      ).template.spec as {
        volumes?: Array<{ name: string; emptyDir?: unknown }>;
        containers: Array<{
          readinessProbe?: { httpGet?: { path: string } };
          volumeMounts?: Array<{ name: string; mountPath: string }>;
        }>;
      };
    t.assert.equal(podOf("kiln-webhook").containers[0]?.readinessProbe?.httpGet?.path, "/readyz");
    const controller = podOf("kiln-controller");
    const tmp = controller.containers[0]?.volumeMounts?.find((m) => m.mountPath === "/tmp");
    assert.ok(tmp, "a /tmp mount");
    assert.ok(controller.volumes?.find((v) => v.name === tmp!.name)?.emptyDir, "an emptyDir");
  });

  test("Kiln's own pods run as non-root with no capabilities and a read-only root", (t) => {
    for (const deployment of byKind("Deployment")) {
      const pod = (deployment.spec as { template: { spec: Record<string, unknown> } }).template.spec;
      const podContext = pod.securityContext as Record<string, unknown>;
      t.assert.equal(podContext.runAsNonRoot, true, deployment.metadata.name);
      t.assert.deepEqual(podContext.seccompProfile, { type: "RuntimeDefault" });
      for (const container of pod.containers as Array<{ securityContext: Record<string, unknown> }>) {
        t.assert.equal(container.securityContext.allowPrivilegeEscalation, false);
        t.assert.equal(container.securityContext.readOnlyRootFilesystem, true);
        t.assert.deepEqual(container.securityContext.capabilities, { drop: ["ALL"] });
      }
    }
  });

  test("build pods use the controller's own image: no KILN_IMAGE to go stale after an image override", (t) => {
    const controller = byKind("Deployment").find((d) => d.metadata.name === "kiln-controller");
    const container = (
      controller!.spec as { template: { spec: { containers: Array<{ image: string; args: string[] }> } } }
    ).template.spec.containers[0];
    const config = byKind("ConfigMap").find((c) => c.metadata.name === "kiln-config") as
      | { data: Record<string, string> }
      | undefined;
    t.assert.equal(config?.data.KILN_IMAGE, undefined);
    t.assert.equal(container?.image, "kiln:0.1.0");
    t.assert.deepEqual(container?.args, ["controller"], "how ownImage finds the controller's container");
  });
});

describe("the local overlay (kubectl kustomize manifests/overlays/local/)", () => {
  const local = parseAllDocuments(
    execFileSync(kubectl, ["kustomize", resolve(root, "manifests/overlays/local")], { encoding: "utf8" }),
  ).map((doc) => doc.toJS() as K8sObject);

  test("the same objects as the install but the store's volume claim, the locally built image, one replica each", (t) => {
    t.assert.deepEqual(
      local.map((o) => `${o.kind}/${o.metadata.name}`).sort(),
      objects
        .map((o) => `${o.kind}/${o.metadata.name}`)
        // The test API server has no PersistentVolumeClaims: the store keeps its data in an emptyDir there.
        .filter((name) => name !== "PersistentVolumeClaim/kiln-store")
        .sort(),
    );
    const store = local.find((o) => o.kind === "Deployment" && o.metadata.name === "kiln-store")!.spec as {
      template: { spec: { volumes: Array<{ name: string; emptyDir?: unknown }> } };
    };
    t.assert.deepEqual(store.template.spec.volumes, [{ name: "data", emptyDir: { sizeLimit: "2Gi" } }]);
    for (const d of local.filter((o) => o.kind === "Deployment")) {
      const spec = d.spec as {
        replicas: number;
        template: { spec: { containers: Array<{ image: string }> } };
      };
      t.assert.equal(spec.replicas, 1, d.metadata.name);
      t.assert.equal(spec.template.spec.containers[0]?.image, "localhost/kiln:dev");
    }
    const config = local.find(
      (o) => o.kind === "ConfigMap" && o.metadata.name === "kiln-config",
    ) as unknown as {
      data: Record<string, string>;
    };
    t.assert.equal(config.data.KILN_WEBHOOK_URL, "http://127.0.0.1:8080/hooks/github");
    t.assert.equal(
      config.data.KILN_TELEGRAM_TOKEN_FILE,
      "/var/run/kiln/telegram/token",
      "the base's settings stay",
    );
  });
});
