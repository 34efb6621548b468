// The RBAC objects as stored (rbac.authorization.k8s.io/v1), and the collections they live in.
import type { KubeObject } from "../storage.ts";
import type { PolicyRule } from "./rules.ts";

export const RBAC_GROUP = "rbac.authorization.k8s.io";

export const COLLECTIONS = {
  roles: `${RBAC_GROUP}/roles`,
  clusterRoles: `${RBAC_GROUP}/clusterroles`,
  roleBindings: `${RBAC_GROUP}/rolebindings`,
  clusterRoleBindings: `${RBAC_GROUP}/clusterrolebindings`,
} as const;

export const RBAC_COLLECTIONS = new Set<string>(Object.values(COLLECTIONS));

export interface Subject {
  kind: string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export type RoleObject = KubeObject & {
  rules?: PolicyRule[] | null;
  aggregationRule?: { clusterRoleSelectors?: LabelSelectorObject[] };
};

export type BindingObject = KubeObject & { subjects?: Subject[] | null; roleRef: RoleRef };
