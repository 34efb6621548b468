// What a namespace with Repositories needs so its builds run there with no manual step, as a pure function
// of the namespace's Repositories: the agent's ServiceAccount and its RoleBinding to the kiln-build-agent
// ClusterRole (read Builds, patch their status: the agent records steps under its own account), a Role
// that lets the webhook read exactly the webhook Secrets those Repositories name (so the internet-facing
// webhook has no cluster-wide Secret read), and a NetworkPolicy that keeps build pods away from the cloud
// metadata address. Each object is owned by every Repository of the namespace: when the last one goes,
// the garbage collector removes them.
import type { Repository } from "../../api/repository.ts";

export const MANAGED_BY = { "app.kubernetes.io/managed-by": "kiln" } as const;
/** Role and RoleBinding through which the webhook reads a namespace's webhook Secrets. */
export const WEBHOOK_SECRETS = "kiln-webhook-secrets";
/** The agent's RoleBinding, to the ClusterRole manifests/base/rbac/build-agent.yaml installs. */
export const AGENT_BINDING = "kiln-build-agent";
export const BUILD_POD_POLICY = "kiln-build-pods";
/** Link-local cloud metadata endpoints (AWS, GCP, Azure, OpenStack; AWS's IPv6 one). */
export const METADATA_ADDRESSES = { v4: "169.254.169.254/32", v6: "fd00:ec2::254/128" } as const;

export interface BuildAccessConfig {
  /** The agent's ServiceAccount in every build namespace (controller config agentServiceAccount). */
  agentServiceAccount: string;
  /** The ClusterRole bound to it (manifests/base/rbac/build-agent.yaml). */
  agentClusterRole: string;
  /** The webhook's ServiceAccount: namespace and name. */
  webhook: { namespace: string; serviceAccount: string };
  /** Whether to keep the build pods' egress NetworkPolicy. */
  networkPolicy: boolean;
}

export interface ManagedObject {
  apiVersion: string;
  kind: string;
  /** Where it lives: /api/v1/namespaces/<ns>/serviceaccounts … */
  plural: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    ownerReferences: OwnerReference[];
  };
  /** The fields this controller keeps as given (everything but metadata). */
  body: Record<string, unknown>;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** Objects to remove from a namespace (no Repository names a webhook secret any more). */
export interface BuildAccess {
  keep: ManagedObject[];
  remove: { apiVersion: string; plural: string; name: string }[];
}

function owners(repositories: readonly Repository[]): OwnerReference[] {
  return repositories
    .filter((r) => r.metadata.uid && !r.metadata.deletionTimestamp)
    .map((r) => ({ apiVersion: r.apiVersion, kind: r.kind, name: r.metadata.name!, uid: r.metadata.uid! }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function buildAccess(
  namespace: string,
  repositories: readonly Repository[],
  config: BuildAccessConfig,
): BuildAccess {
  const ownerReferences = owners(repositories);
  if (ownerReferences.length === 0) return { keep: [], remove: [] };
  const meta = (name: string) => ({ name, namespace, labels: { ...MANAGED_BY }, ownerReferences });
  const rbac = "rbac.authorization.k8s.io/v1";
  const keep: ManagedObject[] = [
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      plural: "serviceaccounts",
      metadata: meta(config.agentServiceAccount),
      // Only the agent container mounts a token, through its own projected volume (build-pod.ts).
      body: { automountServiceAccountToken: false },
    },
    {
      apiVersion: rbac,
      kind: "RoleBinding",
      plural: "rolebindings",
      metadata: meta(AGENT_BINDING),
      body: {
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: config.agentClusterRole,
        },
        subjects: [{ kind: "ServiceAccount", name: config.agentServiceAccount, namespace }],
      },
    },
  ];
  const remove: BuildAccess["remove"] = [];
  const secrets = [
    ...new Set(
      repositories
        .filter((r) => !r.metadata.deletionTimestamp)
        .flatMap((r) => (r.spec.webhook ? [r.spec.webhook.secretRef.name] : [])),
    ),
  ].sort();
  if (secrets.length > 0) {
    keep.push(
      {
        apiVersion: rbac,
        kind: "Role",
        plural: "roles",
        metadata: meta(WEBHOOK_SECRETS),
        body: {
          rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: secrets, verbs: ["get"] }],
        },
      },
      {
        apiVersion: rbac,
        kind: "RoleBinding",
        plural: "rolebindings",
        metadata: meta(WEBHOOK_SECRETS),
        body: {
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: WEBHOOK_SECRETS },
          subjects: [
            {
              kind: "ServiceAccount",
              name: config.webhook.serviceAccount,
              namespace: config.webhook.namespace,
            },
          ],
        },
      },
    );
  } else {
    // An empty resourceNames list would grant every Secret: no names, no Role.
    remove.push(
      { apiVersion: rbac, plural: "rolebindings", name: WEBHOOK_SECRETS },
      { apiVersion: rbac, plural: "roles", name: WEBHOOK_SECRETS },
    );
  }
  const policy = {
    apiVersion: "networking.k8s.io/v1",
    plural: "networkpolicies",
    name: BUILD_POD_POLICY,
  };
  if (config.networkPolicy) {
    keep.push({
      apiVersion: policy.apiVersion,
      kind: "NetworkPolicy",
      plural: policy.plural,
      metadata: meta(BUILD_POD_POLICY),
      body: {
        spec: {
          // Build pods carry the label (build-pod.ts); nothing else in the namespace is affected.
          podSelector: { matchLabels: { ...MANAGED_BY } },
          policyTypes: ["Egress"],
          // Anywhere (registries, package mirrors, the API server, DNS, other pods) but the metadata
          // address, which hands out the node's cloud credentials. Kiln's own pods refuse build pods on
          // their side (manifests/base/network-policy.yaml).
          egress: [
            {
              to: [
                { ipBlock: { cidr: "0.0.0.0/0", except: [METADATA_ADDRESSES.v4] } },
                { ipBlock: { cidr: "::/0", except: [METADATA_ADDRESSES.v6] } },
                { namespaceSelector: {} },
              ],
            },
          ],
        },
      },
    });
  } else {
    remove.push(policy);
  }
  return { keep, remove };
}

/** Whether `current` holds everything `desired` says (objects by key, lists item by item); server defaults may add more. */
export function covers(current: unknown, desired: unknown): boolean {
  if (Array.isArray(desired))
    return (
      Array.isArray(current) &&
      current.length === desired.length &&
      desired.every((d, i) => covers(current[i], d))
    );
  if (desired !== null && typeof desired === "object") {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return false;
    return Object.entries(desired).every(([k, v]) => covers((current as Record<string, unknown>)[k], v));
  }
  return current === desired;
}

/** Whether the object in the cluster needs an update to match the desired one (labels, owners, body). */
export function differs(current: Record<string, unknown>, desired: ManagedObject): boolean {
  const meta = (current.metadata ?? {}) as { labels?: Record<string, string>; ownerReferences?: unknown[] };
  const refs = (meta.ownerReferences ?? []) as OwnerReference[];
  const sameOwners =
    refs.length === desired.metadata.ownerReferences.length && covers(refs, desired.metadata.ownerReferences);
  return !sameOwners || !covers(meta.labels ?? {}, desired.metadata.labels) || !covers(current, desired.body);
}

/** Kiln keeps only what it made: an object of that name without Kiln's label belongs to someone else. */
export function managedByKiln(current: Record<string, unknown>): boolean {
  const labels = ((current.metadata ?? {}) as { labels?: Record<string, string> }).labels ?? {};
  return labels["app.kubernetes.io/managed-by"] === MANAGED_BY["app.kubernetes.io/managed-by"];
}
