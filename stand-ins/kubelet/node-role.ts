// The process kubelet's RBAC: one ClusterRole granting exactly the calls it makes (each rule taken from
// kube's system:node role, or system:kube-scheduler for binding pods, since this kubelet also schedules)
// and its binding to the kubelet's ServiceAccount. Set up with the admin kubeconfig, as a cluster
// installer (kubeadm join) sets up a node's credentials. Unlike kube's Node authorizer it is not limited
// to the pods bound to this node and the Secrets, ConfigMaps and tokens they reference.

export const NODE_ROLE = "kiln:process-kubelet";

export const NODE_ROLE_RULES = [
  // Watches every pod (to schedule and run them), reads one back, deletes it once terminated.
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "delete"] },
  { apiGroups: [""], resources: ["pods/status"], verbs: ["update"] },
  { apiGroups: [""], resources: ["pods/binding"], verbs: ["create"] },
  // Secrets and ConfigMaps the pods' volumes and env refer to; projected service-account tokens.
  { apiGroups: [""], resources: ["secrets", "configmaps"], verbs: ["get"] },
  { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] },
  { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
  { apiGroups: [""], resources: ["nodes"], verbs: ["create"] },
];

/** The ClusterRole and ClusterRoleBinding for the kubelet's ServiceAccount `namespace/name`. */
export function nodeRoleObjects(namespace: string, name: string): { role: object; binding: object } {
  const rbac = "rbac.authorization.k8s.io";
  return {
    role: {
      apiVersion: `${rbac}/v1`,
      kind: "ClusterRole",
      metadata: { name: NODE_ROLE },
      rules: NODE_ROLE_RULES,
    },
    binding: {
      apiVersion: `${rbac}/v1`,
      kind: "ClusterRoleBinding",
      metadata: { name: `${NODE_ROLE}:${name}` },
      roleRef: { apiGroup: rbac, kind: "ClusterRole", name: NODE_ROLE },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
  };
}
