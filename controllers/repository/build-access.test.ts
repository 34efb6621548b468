import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Repository } from "../../api/repository.ts";
import { type BuildAccessConfig, buildAccess, covers, differs, managedByKiln } from "./build-access.ts";

const config: BuildAccessConfig = {
  agentServiceAccount: "kiln-build",
  agentClusterRole: "kiln-build-agent",
  webhook: { namespace: "kiln", serviceAccount: "kiln-webhook" },
  networkPolicy: true,
};

function repo(name: string, webhookSecret?: string, deleting = false): Repository {
  return {
    apiVersion: "kiln.dev/v1alpha1",
    kind: "Repository",
    metadata: {
      name,
      namespace: "team-a",
      uid: `uid-${name}`,
      ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: {
      github: { owner: "acme", name },
      ...(webhookSecret
        ? { webhook: { secretRef: { name: webhookSecret, key: "secret" }, events: ["push"] } }
        : {}),
      branches: ["**"],
      tags: false,
      manifest: ".kiln.yaml",
      concurrency: 2,
      cancelSuperseded: true,
      history: { keep: 50 },
    },
  } as Repository;
}

const names = (access: ReturnType<typeof buildAccess>) =>
  access.keep.map((o) => `${o.kind}/${o.metadata.name}`).sort();

describe("buildAccess", () => {
  test("a namespace without Repositories needs nothing (the garbage collector takes what was there)", () => {
    assert.deepEqual(buildAccess("team-a", [], config), { keep: [], remove: [] });
    assert.deepEqual(buildAccess("team-a", [repo("api", "s", true)], config), { keep: [], remove: [] });
  });

  test("the agent's account and binding, the webhook's Secret reads, the build pods' egress policy", () => {
    const access = buildAccess(
      "team-a",
      [repo("web", "web-hook"), repo("api", "api-hook"), repo("docs")],
      config,
    );
    assert.deepEqual(names(access), [
      "NetworkPolicy/kiln-build-pods",
      "Role/kiln-webhook-secrets",
      "RoleBinding/kiln-build-agent",
      "RoleBinding/kiln-webhook-secrets",
      "ServiceAccount/kiln-build",
    ]);
    const byKind = Object.fromEntries(access.keep.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    assert.deepEqual(byKind["ServiceAccount/kiln-build"]!.body, { automountServiceAccountToken: false });
    assert.deepEqual(byKind["RoleBinding/kiln-build-agent"]!.body, {
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "kiln-build-agent" },
      subjects: [{ kind: "ServiceAccount", name: "kiln-build", namespace: "team-a" }],
    });
    // Exactly the named Secrets, get only: no list, no watch, no other Secret.
    assert.deepEqual(byKind["Role/kiln-webhook-secrets"]!.body, {
      rules: [
        { apiGroups: [""], resources: ["secrets"], resourceNames: ["api-hook", "web-hook"], verbs: ["get"] },
      ],
    });
    assert.deepEqual((byKind["RoleBinding/kiln-webhook-secrets"]!.body as { subjects: unknown }).subjects, [
      { kind: "ServiceAccount", name: "kiln-webhook", namespace: "kiln" },
    ]);
    const egress = (
      byKind["NetworkPolicy/kiln-build-pods"]!.body as { spec: { egress: { to: unknown[] }[] } }
    ).spec.egress;
    assert.deepEqual(egress[0]!.to[0], { ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.169.254/32"] } });
    // Every object is owned by every live Repository, sorted (a stable list: no update every pass).
    for (const o of access.keep) {
      assert.equal(o.metadata.namespace, "team-a");
      assert.deepEqual(
        o.metadata.ownerReferences.map((r) => r.name),
        ["api", "docs", "web"],
      );
      assert.equal(o.metadata.labels["app.kubernetes.io/managed-by"], "kiln");
    }
    assert.deepEqual(access.remove, []);
  });

  test("no webhook secret named: no Role (an empty resourceNames would grant every Secret), removed if there", () => {
    const access = buildAccess("team-a", [repo("docs"), repo("old", "old-hook", true)], config);
    assert.ok(!names(access).some((n) => n.includes("kiln-webhook-secrets")));
    assert.deepEqual(
      access.remove.map((r) => `${r.plural}/${r.name}`),
      ["rolebindings/kiln-webhook-secrets", "roles/kiln-webhook-secrets"],
    );
  });

  test("without the network policy option the policy is removed", () => {
    const access = buildAccess("team-a", [repo("api", "h")], { ...config, networkPolicy: false });
    assert.ok(!names(access).includes("NetworkPolicy/kiln-build-pods"));
    assert.deepEqual(
      access.remove.map((r) => r.name),
      ["kiln-build-pods"],
    );
  });
});

describe("drift", () => {
  const [desired] = buildAccess("team-a", [repo("api", "h")], config).keep;
  const fromServer = {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: {
      name: "kiln-build",
      namespace: "team-a",
      uid: "x",
      resourceVersion: "7",
      labels: { "app.kubernetes.io/managed-by": "kiln", other: "label" },
      ownerReferences: [{ apiVersion: "kiln.dev/v1alpha1", kind: "Repository", name: "api", uid: "uid-api" }],
    },
    automountServiceAccountToken: false,
  };

  test("what the server adds (uid, other labels, defaults) is no drift", () => {
    assert.equal(differs(fromServer, desired!), false);
    assert.equal(managedByKiln(fromServer), true);
  });

  test("a changed field, a lost label or another owner list is drift", () => {
    assert.equal(differs({ ...fromServer, automountServiceAccountToken: true }, desired!), true);
    assert.equal(
      differs({ ...fromServer, metadata: { ...fromServer.metadata, labels: {} } }, desired!),
      true,
    );
    const twoOwners = [
      ...fromServer.metadata.ownerReferences,
      { apiVersion: "v1", kind: "X", name: "y", uid: "z" },
    ];
    assert.equal(
      differs({ ...fromServer, metadata: { ...fromServer.metadata, ownerReferences: twoOwners } }, desired!),
      true,
    );
    assert.equal(managedByKiln({ metadata: { labels: {} } }), false);
  });

  test("covers: objects by key, lists item by item and of the same length", () => {
    assert.equal(covers({ a: 1, b: { c: [1, 2] }, d: 4 }, { a: 1, b: { c: [1, 2] } }), true);
    assert.equal(covers({ a: [1, 2, 3] }, { a: [1, 2] }), false);
    assert.equal(covers({ a: "1" }, { a: 1 }), false);
    assert.equal(covers(undefined, {}), false);
  });
});
