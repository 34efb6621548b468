// Protobuf field numbers of rbac.authorization.k8s.io/v1 and authorization.k8s.io/v1 (k8s.io/api v0.34
// generated.proto), and apimachinery's LabelSelector, for kubectl's protobuf request bodies.
import type { MessageSchema } from "../protobuf-types.ts";

export const RBAC_SCHEMAS: Record<string, MessageSchema> = {
  LabelSelector: {
    1: { name: "matchLabels", type: { map: "string" } },
    2: { name: "matchExpressions", type: { message: "LabelSelectorRequirement" }, repeated: true },
  },
  LabelSelectorRequirement: {
    1: { name: "key", type: "string" },
    2: { name: "operator", type: "string" },
    3: { name: "values", type: "string", repeated: true },
  },
  PolicyRule: {
    1: { name: "verbs", type: "string", repeated: true },
    2: { name: "apiGroups", type: "string", repeated: true },
    3: { name: "resources", type: "string", repeated: true },
    4: { name: "resourceNames", type: "string", repeated: true },
    5: { name: "nonResourceURLs", type: "string", repeated: true },
  },
  AggregationRule: {
    1: { name: "clusterRoleSelectors", type: { message: "LabelSelector" }, repeated: true },
  },
  Role: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "rules", type: { message: "PolicyRule" }, repeated: true },
  },
  ClusterRole: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "rules", type: { message: "PolicyRule" }, repeated: true },
    3: { name: "aggregationRule", type: { message: "AggregationRule" } },
  },
  Subject: {
    1: { name: "kind", type: "string" },
    2: { name: "apiGroup", type: "string" },
    3: { name: "name", type: "string" },
    4: { name: "namespace", type: "string" },
  },
  RoleRef: {
    1: { name: "apiGroup", type: "string" },
    2: { name: "kind", type: "string" },
    3: { name: "name", type: "string" },
  },
  RoleBinding: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "subjects", type: { message: "Subject" }, repeated: true },
    3: { name: "roleRef", type: { message: "RoleRef" } },
  },
  ClusterRoleBinding: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "subjects", type: { message: "Subject" }, repeated: true },
    3: { name: "roleRef", type: { message: "RoleRef" } },
  },
};

export const AUTHORIZATION_SCHEMAS: Record<string, MessageSchema> = {
  ExtraValue: { 1: { name: "items", type: "string", repeated: true } },
  SubjectAccessReview: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "spec", type: { message: "SubjectAccessReviewSpec" } },
  },
  LocalSubjectAccessReview: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "spec", type: { message: "SubjectAccessReviewSpec" } },
  },
  SubjectAccessReviewSpec: {
    1: { name: "resourceAttributes", type: { message: "ResourceAttributes" } },
    2: { name: "nonResourceAttributes", type: { message: "NonResourceAttributes" } },
    3: { name: "user", type: "string" },
    4: { name: "groups", type: "string", repeated: true },
    5: { name: "extra", type: { map: "strings" } },
    6: { name: "uid", type: "string" },
  },
  SelfSubjectRulesReview: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "spec", type: { message: "SelfSubjectRulesReviewSpec" } },
  },
  SelfSubjectRulesReviewSpec: { 1: { name: "namespace", type: "string" } },
};
