// The one place test harnesses give Kiln's build agent its RBAC on the test cluster, as the install does:
// the ClusterRole of manifests/base/rbac/build-agent.yaml (what `kubectl apply -k manifests/` installs),
// and — where no repository controller runs to keep it (controllers/repository/build-access.ts) — the
// agent's ServiceAccount and its RoleBinding to that ClusterRole in the build namespace. Nothing broader.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import type { TestApiServer } from "../apiserver/server.ts";
import type { KubeObject } from "../apiserver/storage.ts";

export const BUILD_AGENT_MANIFEST = resolve(
  import.meta.dirname,
  "../../manifests/base/rbac/build-agent.yaml",
);
export const AGENT_SERVICE_ACCOUNT = "kiln-build";
export const AGENT_CLUSTER_ROLE = "kiln-build-agent";

const RBAC = "rbac.authorization.k8s.io";

/** Creates or replaces an object in the in-process server's storage, as `kubectl apply` would leave it. */
export function putObject(
  server: TestApiServer,
  group: string,
  resource: string,
  namespace: string | undefined,
  o: KubeObject,
) {
  const t = server.registry.find(group, "v1", resource)!;
  const existing = server.objects.find(t, namespace, o.metadata.name!);
  if (existing)
    server.objects.update(t, namespace, o.metadata.name!, {
      ...o,
      metadata: { ...o.metadata, resourceVersion: existing.metadata.resourceVersion },
    });
  else server.objects.create(t, namespace, o);
}

/** The agent's ClusterRole exactly as the install manifest has it. */
export function installBuildAgentClusterRole(server: TestApiServer): void {
  const docs = parseAllDocuments(readFileSync(BUILD_AGENT_MANIFEST, "utf8")).map(
    (d) => d.toJS() as KubeObject,
  );
  const role = docs.find((d) => d?.kind === "ClusterRole" && d.metadata.name === AGENT_CLUSTER_ROLE);
  if (!role) throw new Error(`${BUILD_AGENT_MANIFEST} has no ClusterRole ${AGENT_CLUSTER_ROLE}`);
  putObject(server, RBAC, "clusterroles", undefined, role);
}

/** The ClusterRole, the agent's ServiceAccount in `namespace` and its RoleBinding there. */
export function grantBuildAgent(server: TestApiServer, namespace: string): void {
  installBuildAgentClusterRole(server);
  putObject(server, "", "serviceaccounts", namespace, {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: AGENT_SERVICE_ACCOUNT, namespace },
    // Only the agent container mounts a token, through its own projected volume (build-pod.ts).
    automountServiceAccountToken: false,
  });
  putObject(server, RBAC, "rolebindings", namespace, {
    apiVersion: `${RBAC}/v1`,
    kind: "RoleBinding",
    metadata: { name: AGENT_CLUSTER_ROLE, namespace },
    roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: AGENT_CLUSTER_ROLE },
    subjects: [{ kind: "ServiceAccount", name: AGENT_SERVICE_ACCOUNT, namespace }],
  });
}
