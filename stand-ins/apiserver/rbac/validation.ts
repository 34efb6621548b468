// kube's validation and defaulting of the RBAC kinds (pkg/apis/rbac/validation, pkg/apis/rbac/v1
// defaults): names are path segments, rules need verbs (and groups and resources, or URLs outside a
// namespace), bindings reference a Role or ClusterRole of rbac.authorization.k8s.io with a roleRef that
// never changes, and subjects are Users, Groups or ServiceAccounts (with a namespace, cluster-wide).
import { dns1123SubdomainErrors } from "../builtin-validation.ts";
import type { StatusCause } from "../errors.ts";
import type { KubeObject } from "../storage.ts";
import type { PolicyRule } from "./rules.ts";
import { type BindingObject, RBAC_GROUP, type RoleObject, type Subject } from "./types.ts";

type Kind = "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding";

const invalid = (field: string, value: string, detail: string): StatusCause => ({
  reason: "FieldValueInvalid",
  message: `Invalid value: ${value}: ${detail}`,
  field,
});

const required = (field: string, detail = ""): StatusCause => ({
  reason: "FieldValueRequired",
  message: detail ? `Required value: ${detail}` : "Required value",
  field,
});

const notSupported = (field: string, value: string, supported: string[]): StatusCause => ({
  reason: "FieldValueNotSupported",
  message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}`,
  field,
});

const goStrings = (values: string[]) => `[]string{${values.map((v) => JSON.stringify(v)).join(", ")}}`;

/** path.IsValidPathSegmentName, the rule for RBAC object names. */
export function pathSegmentErrors(name: string): string[] {
  if (name === "." || name === "..") return [`may not be '${name}'`];
  const errs: string[] = [];
  if (name.includes("/")) errs.push("may not contain '/'");
  if (name.includes("%")) errs.push("may not contain '%'");
  return errs;
}

export function policyRuleCauses(rule: PolicyRule, namespaced: boolean, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if ((rule.verbs ?? []).length === 0)
    causes.push(required(`${path}.verbs`, "verbs must contain at least one value"));
  const urls = rule.nonResourceURLs ?? [];
  if (urls.length > 0) {
    if (namespaced)
      causes.push(
        invalid(
          `${path}.nonResourceURLs`,
          goStrings(urls),
          "namespaced rules cannot apply to non-resource URLs",
        ),
      );
    if (
      (rule.apiGroups ?? []).length > 0 ||
      (rule.resources ?? []).length > 0 ||
      (rule.resourceNames ?? []).length > 0
    )
      causes.push(
        invalid(
          `${path}.nonResourceURLs`,
          goStrings(urls),
          "rules cannot apply to both regular resources and non-resource URLs",
        ),
      );
    return causes;
  }
  if ((rule.apiGroups ?? []).length === 0)
    causes.push(required(`${path}.apiGroups`, "resource rules must supply at least one api group"));
  if ((rule.resources ?? []).length === 0)
    causes.push(required(`${path}.resources`, "resource rules must supply at least one resource"));
  return causes;
}

const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"];

function aggregationCauses(role: RoleObject): StatusCause[] {
  const rule = role.aggregationRule;
  if (!rule) return [];
  const selectors = rule.clusterRoleSelectors ?? [];
  if (selectors.length === 0)
    return [
      required(
        "aggregationRule.clusterRoleSelectors",
        "at least one clusterRoleSelector required if aggregationRule is non-nil",
      ),
    ];
  const causes: StatusCause[] = [];
  selectors.forEach((s, i) => {
    (s.matchExpressions ?? []).forEach((e, j) => {
      const field = `aggregationRule.clusterRoleSelectors[${i}].matchExpressions[${j}]`;
      if (!OPERATORS.includes(e.operator))
        causes.push(notSupported(`${field}.operator`, e.operator, OPERATORS));
      else if ((e.operator === "In" || e.operator === "NotIn") && (e.values ?? []).length === 0)
        causes.push(required(`${field}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      else if ((e.operator === "Exists" || e.operator === "DoesNotExist") && (e.values ?? []).length > 0)
        causes.push({
          reason: "FieldValueForbidden",
          message: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
          field: `${field}.values`,
        });
    });
  });
  return causes;
}

function subjectCauses(s: Subject, namespaced: boolean, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!s.name) causes.push(required(`${path}.name`));
  switch (s.kind) {
    case "ServiceAccount":
      if (s.name)
        for (const e of dns1123SubdomainErrors(s.name))
          causes.push(invalid(`${path}.name`, JSON.stringify(s.name), e));
      if (s.apiGroup) causes.push(notSupported(`${path}.apiGroup`, s.apiGroup, [""]));
      if (!namespaced && !s.namespace) causes.push(required(`${path}.namespace`));
      break;
    case "User":
    case "Group":
      if (s.apiGroup !== RBAC_GROUP)
        causes.push(notSupported(`${path}.apiGroup`, s.apiGroup ?? "", [RBAC_GROUP]));
      break;
    default:
      causes.push(notSupported(`${path}.kind`, s.kind ?? "", ["ServiceAccount", "User", "Group"]));
  }
  return causes;
}

function roleRefText(b: BindingObject): string {
  const r = b.roleRef ?? { apiGroup: "", kind: "", name: "" };
  return `rbac.RoleRef{APIGroup:${JSON.stringify(r.apiGroup ?? "")}, Kind:${JSON.stringify(r.kind ?? "")}, Name:${JSON.stringify(r.name ?? "")}}`;
}

function bindingCauses(b: BindingObject, old: BindingObject | undefined, namespaced: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  const ref = b.roleRef ?? { apiGroup: "", kind: "", name: "" };
  if (ref.apiGroup !== RBAC_GROUP)
    causes.push(notSupported("roleRef.apiGroup", ref.apiGroup ?? "", [RBAC_GROUP]));
  if (ref.kind !== "Role" && ref.kind !== "ClusterRole")
    causes.push(notSupported("roleRef.kind", ref.kind ?? "", ["Role", "ClusterRole"]));
  if (!ref.name) causes.push(required("roleRef.name"));
  else
    for (const e of pathSegmentErrors(ref.name))
      causes.push(invalid("roleRef.name", JSON.stringify(ref.name), e));
  (b.subjects ?? []).forEach((s, i) => {
    causes.push(...subjectCauses(s, namespaced, `subjects[${i}]`));
  });
  if (old) {
    const o = old.roleRef ?? { apiGroup: "", kind: "", name: "" };
    if (o.apiGroup !== ref.apiGroup || o.kind !== ref.kind || o.name !== ref.name)
      causes.push(invalid("roleRef", roleRefText(b), "cannot change roleRef"));
  }
  return causes;
}

/** The kind's validation: what the strategy's Validate / ValidateUpdate add to the schema checks. */
export function rbacCauses(kind: Kind): (o: KubeObject, old: KubeObject | undefined) => StatusCause[] {
  return (o, old) => {
    const causes: StatusCause[] = [];
    const name = o.metadata.name ?? "";
    if (name)
      for (const e of pathSegmentErrors(name)) causes.push(invalid("metadata.name", JSON.stringify(name), e));
    if (kind === "Role" || kind === "ClusterRole") {
      const role = o as RoleObject;
      (role.rules ?? []).forEach((r, i) => {
        causes.push(...policyRuleCauses(r, kind === "Role", `rules[${i}]`));
      });
      if (kind === "ClusterRole") causes.push(...aggregationCauses(role));
    } else {
      causes.push(
        ...bindingCauses(o as BindingObject, old as BindingObject | undefined, kind === "RoleBinding"),
      );
    }
    return causes;
  };
}

/** SetDefaults_RoleBinding / _ClusterRoleBinding / _Subject. */
export function rbacDefaults(kind: Kind): (o: KubeObject) => void {
  return (o) => {
    if (kind !== "RoleBinding" && kind !== "ClusterRoleBinding") return;
    const b = o as BindingObject;
    if (b.roleRef && typeof b.roleRef === "object" && !b.roleRef.apiGroup) b.roleRef.apiGroup = RBAC_GROUP;
    for (const s of b.subjects ?? []) {
      if (!s || typeof s !== "object" || s.apiGroup) continue;
      if (s.kind === "User" || s.kind === "Group") s.apiGroup = RBAC_GROUP;
    }
  };
}
