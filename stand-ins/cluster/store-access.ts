// The one place a local cluster gives `kiln store` its install RBAC (manifests/base/rbac/store.yaml, as
// `kubectl apply -k manifests/` installs it, in the "kiln" namespace) and a kubeconfig holding the kiln-store
// ServiceAccount's token: so a store run beside the test cluster (tests, the sandbox) checks tokens exactly as
// far as its install lets it, nothing more. Readers (the controller's /log) get a token as their install
// gives them one: audience kiln-store, their account bound to kiln-build-log-reader.
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { STORE_AUDIENCE } from "../../api/store-protocol.ts";
import { KubeClient, resourcePath } from "../../lib/kube.ts";
import type { KubeObject } from "../apiserver/storage.ts";
import { putObject } from "./build-agent-access.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import type { TestCluster } from "./start.ts";

export const STORE_RBAC_MANIFEST = resolve(import.meta.dirname, "../../manifests/base/rbac/store.yaml");
export const STORE_NAMESPACE = "kiln";
export const STORE_SERVICE_ACCOUNT = "kiln-store";
const RBAC = "rbac.authorization.k8s.io";

const RESOURCE_OF: Record<string, [group: string, resource: string, namespaced: boolean]> = {
  ServiceAccount: ["", "serviceaccounts", true],
  ClusterRole: [RBAC, "clusterroles", false],
  ClusterRoleBinding: [RBAC, "clusterrolebindings", false],
  Role: [RBAC, "roles", true],
  RoleBinding: [RBAC, "rolebindings", true],
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
  const path = join(dir, "store.kubeconfig");
  await writeKubeconfig(path, {
    server: cluster.url,
    caPem: server.caPem,
    token: await requestToken(cluster, STORE_SERVICE_ACCOUNT, {}),
    name: STORE_SERVICE_ACCOUNT,
  });
  return path;
}

/**
 * A reader's token file for the store, as a Kiln component holds one (a projected token, audience
 * kiln-store): `account` in the kiln namespace, bound to the kiln-build-log-reader ClusterRole the store's
 * manifest defines (install that first: storeKubeconfig). Returns the file's path.
 */
export async function storeReaderTokenFile(
  cluster: TestCluster,
  dir: string,
  account: string,
): Promise<string> {
  putObject(cluster.server, "", "serviceaccounts", STORE_NAMESPACE, {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: account, namespace: STORE_NAMESPACE },
  });
  putObject(cluster.server, RBAC, "clusterrolebindings", undefined, {
    apiVersion: `${RBAC}/v1`,
    kind: "ClusterRoleBinding",
    metadata: { name: `${account}-build-log-reader` },
    roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "kiln-build-log-reader" },
    subjects: [{ kind: "ServiceAccount", name: account, namespace: STORE_NAMESPACE }],
  });
  const path = join(dir, `${account}.store-token`);
  await writeFile(path, await requestToken(cluster, account, { audiences: [STORE_AUDIENCE] }), {
    mode: 0o600,
  });
  return path;
}

async function requestToken(cluster: TestCluster, account: string, spec: object): Promise<string> {
  const client = new KubeClient(cluster.kubeConfig);
  try {
    const answer = await client.create<{ status: { token: string } }>(
      `${resourcePath("v1", "serviceaccounts", STORE_NAMESPACE, account)}/token`,
      {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 86_400, ...spec },
      },
    );
    return answer.status.token;
  } finally {
    client.close();
  }
}
