// The default ClusterRoles and ClusterRoleBindings kube-apiserver creates at start
// (plugin/pkg/auth/authorizer/rbac/bootstrappolicy, as its testdata/cluster-roles.yaml and
// cluster-role-bindings.yaml list them), labelled kubernetes.io/bootstrapping=rbac-defaults.
// Only the roles a Kiln cluster meets are here; feature-gated rules for APIs this server does not serve
// (dynamic resource allocation, cluster trust bundles) are left out.
import type { KubeObject } from "../storage.ts";
import type { PolicyRule } from "./rules.ts";
import { RBAC_GROUP } from "./types.ts";
import { ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, SYSTEM_PRIVILEGED_GROUP } from "./user.ts";

const READ = ["get", "list", "watch"];
const WRITE = ["create", "delete", "deletecollection", "patch", "update"];
const READ_WRITE = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function rule(
  verbs: string[],
  apiGroups: string[],
  resources: string[],
  resourceNames?: string[],
): PolicyRule {
  return { verbs, apiGroups, resources, ...(resourceNames ? { resourceNames } : {}) };
}

function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

const aggregateTo = (role: string) => ({ [`rbac.authorization.k8s.io/aggregate-to-${role}`]: "true" });

interface RoleSpec {
  name: string;
  rules?: PolicyRule[];
  aggregate?: string;
  labels?: Record<string, string>;
}

const ROLES: RoleSpec[] = [
  { name: "admin", aggregate: "admin" },
  { name: "cluster-admin", rules: [rule(["*"], ["*"], ["*"]), urls(["*"], ["*"])] },
  { name: "edit", aggregate: "edit", labels: aggregateTo("admin") },
  {
    name: "system:aggregate-to-admin",
    labels: aggregateTo("admin"),
    rules: [
      rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
      rule(READ_WRITE, [RBAC_GROUP], ["rolebindings", "roles"]),
    ],
  },
  {
    name: "system:aggregate-to-edit",
    labels: aggregateTo("edit"),
    rules: [
      rule(
        READ,
        [""],
        ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"],
      ),
      rule(["impersonate"], [""], ["serviceaccounts"]),
      rule(WRITE, [""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
      rule(["create"], [""], ["pods/eviction"]),
      rule(
        WRITE,
        [""],
        [
          "configmaps",
          "events",
          "persistentvolumeclaims",
          "replicationcontrollers",
          "replicationcontrollers/scale",
          "secrets",
          "serviceaccounts",
          "services",
          "services/proxy",
        ],
      ),
      rule(["create"], [""], ["serviceaccounts/token"]),
      rule(
        WRITE,
        ["apps"],
        [
          "daemonsets",
          "deployments",
          "deployments/rollback",
          "deployments/scale",
          "replicasets",
          "replicasets/scale",
          "statefulsets",
          "statefulsets/scale",
        ],
      ),
      rule(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
      rule(WRITE, ["batch"], ["cronjobs", "jobs"]),
      rule(
        WRITE,
        ["extensions"],
        [
          "daemonsets",
          "deployments",
          "deployments/rollback",
          "deployments/scale",
          "ingresses",
          "networkpolicies",
          "replicasets",
          "replicasets/scale",
          "replicationcontrollers/scale",
        ],
      ),
      rule(WRITE, ["policy"], ["poddisruptionbudgets"]),
      rule(WRITE, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
      rule(READ_WRITE, ["coordination.k8s.io"], ["leases"]),
    ],
  },
  {
    name: "system:aggregate-to-view",
    labels: aggregateTo("view"),
    rules: [
      rule(
        READ,
        [""],
        [
          "configmaps",
          "endpoints",
          "persistentvolumeclaims",
          "persistentvolumeclaims/status",
          "pods",
          "replicationcontrollers",
          "replicationcontrollers/scale",
          "serviceaccounts",
          "services",
          "services/status",
        ],
      ),
      rule(
        READ,
        [""],
        [
          "bindings",
          "events",
          "limitranges",
          "namespaces/status",
          "pods/log",
          "pods/status",
          "replicationcontrollers/status",
          "resourcequotas",
          "resourcequotas/status",
        ],
      ),
      rule(READ, [""], ["namespaces"]),
      rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
      rule(
        READ,
        ["apps"],
        [
          "controllerrevisions",
          "daemonsets",
          "daemonsets/status",
          "deployments",
          "deployments/scale",
          "deployments/status",
          "replicasets",
          "replicasets/scale",
          "replicasets/status",
          "statefulsets",
          "statefulsets/scale",
          "statefulsets/status",
        ],
      ),
      rule(READ, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
      rule(READ, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
      rule(
        READ,
        ["extensions"],
        [
          "daemonsets",
          "daemonsets/status",
          "deployments",
          "deployments/scale",
          "deployments/status",
          "ingresses",
          "ingresses/status",
          "networkpolicies",
          "replicasets",
          "replicasets/scale",
          "replicasets/status",
          "replicationcontrollers/scale",
        ],
      ),
      rule(READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
      rule(READ, ["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
    ],
  },
  {
    name: "system:auth-delegator",
    rules: [
      rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
      rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
    ],
  },
  {
    name: "system:basic-user",
    rules: [
      rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
      rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
    ],
  },
  {
    name: "system:discovery",
    rules: [
      urls(
        ["get"],
        [
          "/api",
          "/api/*",
          "/apis",
          "/apis/*",
          "/healthz",
          "/livez",
          "/openapi",
          "/openapi/*",
          "/readyz",
          "/version",
          "/version/",
        ],
      ),
    ],
  },
  {
    name: "system:kube-scheduler",
    rules: [
      rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
      rule(["create"], ["coordination.k8s.io"], ["leases"]),
      rule(["get", "update"], ["coordination.k8s.io"], ["leases"], ["kube-scheduler"]),
      rule(READ, [""], ["nodes"]),
      rule(["delete", "get", "list", "watch"], [""], ["pods"]),
      rule(["create"], [""], ["bindings", "pods/binding"]),
      rule(["patch", "update"], [""], ["pods/status"]),
      rule(READ, [""], ["replicationcontrollers", "services"]),
      rule(READ, ["apps", "extensions"], ["replicasets"]),
      rule(READ, ["apps"], ["statefulsets"]),
      rule(READ, ["policy"], ["poddisruptionbudgets"]),
      rule(READ, [""], ["persistentvolumeclaims", "persistentvolumes"]),
      rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
      rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
      rule(READ, ["storage.k8s.io"], ["csinodes"]),
      rule(READ, [""], ["namespaces"]),
      rule(READ, ["storage.k8s.io"], ["csidrivers"]),
      rule(READ, ["storage.k8s.io"], ["csistoragecapacities"]),
    ],
  },
  {
    name: "system:monitoring",
    rules: [
      urls(
        ["get"],
        ["/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz", "/readyz/*"],
      ),
    ],
  },
  {
    name: "system:node",
    rules: [
      rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
      rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews", "subjectaccessreviews"]),
      rule(READ, [""], ["services"]),
      rule(["create", "get", "list", "watch"], [""], ["nodes"]),
      rule(["patch", "update"], [""], ["nodes/status"]),
      rule(["patch", "update"], [""], ["nodes"]),
      rule(["create", "patch", "update"], [""], ["events"]),
      rule(READ, [""], ["pods"]),
      rule(["create", "delete"], [""], ["pods"]),
      rule(["patch", "update"], [""], ["pods/status"]),
      rule(["create"], [""], ["pods/eviction"]),
      rule(READ, [""], ["configmaps", "secrets"]),
      rule(["get"], [""], ["persistentvolumeclaims", "persistentvolumes"]),
      rule(["get"], [""], ["endpoints"]),
      rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
      rule(["create", "delete", "get", "patch", "update"], ["coordination.k8s.io"], ["leases"]),
      rule(["get"], ["storage.k8s.io"], ["volumeattachments"]),
      rule(["create"], [""], ["serviceaccounts/token"]),
      rule(["get", "patch", "update"], [""], ["persistentvolumeclaims/status"]),
      rule(READ, ["storage.k8s.io"], ["csidrivers"]),
      rule(["create", "delete", "get", "patch", "update"], ["storage.k8s.io"], ["csinodes"]),
      rule(READ, ["node.k8s.io"], ["runtimeclasses"]),
    ],
  },
  {
    name: "system:public-info-viewer",
    rules: [urls(["get"], ["/healthz", "/livez", "/readyz", "/version", "/version/"])],
  },
  {
    name: "system:service-account-issuer-discovery",
    rules: [urls(["get"], ["/.well-known/openid-configuration", "/openid/v1/jwks"])],
  },
  { name: "view", aggregate: "view", labels: aggregateTo("edit") },
];

type SubjectSpec = ["User" | "Group", string];

const BINDINGS: [string, SubjectSpec[]][] = [
  ["cluster-admin", [["Group", SYSTEM_PRIVILEGED_GROUP]]],
  ["system:basic-user", [["Group", ALL_AUTHENTICATED]]],
  ["system:discovery", [["Group", ALL_AUTHENTICATED]]],
  ["system:kube-scheduler", [["User", "system:kube-scheduler"]]],
  ["system:monitoring", [["Group", "system:monitoring"]]],
  // kube binds system:node to nobody: the Node authorizer grants nodes their access.
  ["system:node", []],
  [
    "system:public-info-viewer",
    [
      ["Group", ALL_AUTHENTICATED],
      ["Group", ALL_UNAUTHENTICATED],
    ],
  ],
  ["system:service-account-issuer-discovery", [["Group", "system:serviceaccounts"]]],
];

const METADATA = {
  labels: { "kubernetes.io/bootstrapping": "rbac-defaults" },
  annotations: { "rbac.authorization.kubernetes.io/autoupdate": "true" },
};

export function bootstrapClusterRoles(): KubeObject[] {
  return ROLES.map((r) => ({
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: "ClusterRole",
    metadata: {
      name: r.name,
      labels: { ...r.labels, ...METADATA.labels },
      annotations: { ...METADATA.annotations },
    },
    ...(r.aggregate
      ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: aggregateTo(r.aggregate) }] } }
      : { rules: r.rules }),
  }));
}

export function bootstrapClusterRoleBindings(): KubeObject[] {
  return BINDINGS.map(([name, subjects]) => ({
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: "ClusterRoleBinding",
    metadata: { name, labels: { ...METADATA.labels }, annotations: { ...METADATA.annotations } },
    roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name },
    ...(subjects.length > 0
      ? { subjects: subjects.map(([kind, subject]) => ({ apiGroup: RBAC_GROUP, kind, name: subject })) }
      : {}),
  }));
}
