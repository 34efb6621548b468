// The one place a local cluster gives `kiln store` its install RBAC (manifests/base/rbac/store.yaml, as
// `kubectl apply -k manifests/` installs it, in the "kiln" namespace) and a kubeconfig holding the kiln-store
// ServiceAccount's token: so a store run beside the test cluster (tests, the sandbox) checks tokens exactly as
// far as its install lets it, nothing more.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { KubeClient, resourcePath } from "../../lib/kube.ts";
import type { KubeObject } from "../apiserver/storage.ts";
import { putObject } from "./build-agent-access.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import type { TestCluster } from "./start.ts";

export const STORE_RBAC_MANIFEST = resolve(import.meta.dirname, "../../manifests/base/rbac/store.yaml");
export const STORE_NAMESPACE = "kiln";
export const STORE_SERVICE_ACCOUNT = "kiln-store";

const RESOURCE_OF: Record<string, [group: string, resource: string, namespaced: boolean]> = {
  ServiceAccount: ["", "serviceaccounts", true],
  ClusterRole: ["rbac.authorization.k8s.io", "clusterroles", false],
  ClusterRoleBinding: ["rbac.authorization.k8s.io", "clusterrolebindings", false],
  Role: ["rbac.authorization.k8s.io", "roles", true],
  RoleBinding: ["rbac.authorization.k8s.io", "rolebindings", true],
};

/** Installs the store's RBAC; writes `<dir>/store.kubeconfig` with its account's token and returns the path. */
export async function storeKubeconfig(cluster: TestCluster, dir: string): Promise<string> {
  const server = cluster.server;
  putObject(server, "", "namespaces", undefined, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: STORE_NAMESPACE },
  });
  for (const doc of parseAllDocuments(readFileSync(STORE_RBAC_MANIFEST, "utf8"))) {
    const o = doc.toJS() as KubeObject | null;
    if (!o) continue;
    const where = RESOURCE_OF[o.kind!];
    if (!where) throw new Error(`${STORE_RBAC_MANIFEST}: no place for a ${o.kind}`);
    putObject(server, where[0], where[1], where[2] ? STORE_NAMESPACE : undefined, o);
  }
  const client = new KubeClient(cluster.kubeConfig);
  try {
    const answer = await client.create<{ status: { token: string } }>(
      `${resourcePath("v1", "serviceaccounts", STORE_NAMESPACE, STORE_SERVICE_ACCOUNT)}/token`,
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 86_400 } },
    );
    const path = join(dir, "store.kubeconfig");
    await writeKubeconfig(path, {
      server: cluster.url,
      caPem: server.caPem,
      token: answer.status.token,
      name: STORE_SERVICE_ACCOUNT,
    });
    return path;
  } finally {
    client.close();
  }
}
