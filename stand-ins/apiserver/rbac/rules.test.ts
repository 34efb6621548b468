// Table tests of RBAC's pure parts: rule matching (kube's RuleAllows), escalation coverage (Covers) and
// the compact description of missing rules, aggregation, impersonation headers, request attributes.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { aggregatedRules } from "./aggregation.ts";
import {
  type Attributes,
  nonResourceAttributes,
  requestAttributes,
  resourceAttributes,
} from "./attributes.ts";
import { compactRules, compactString, covers } from "./covers.ts";
import { denied, forbiddenMessage } from "./forbidden.ts";
import { headerValues, impersonationRequests } from "./impersonation.ts";
import { type PolicyRule, ruleAllows } from "./rules.ts";
import type { RoleObject } from "./types.ts";
import { serviceAccountUser, splitServiceAccountUsername } from "./user.ts";
import { pathSegmentErrors, policyRuleCauses, rbacCauses } from "./validation.ts";

const user = serviceAccountUser("ns", "sa");
const res = (a: Partial<Attributes> & { verb: string; resource: string }): Attributes =>
  resourceAttributes(user, { apiGroup: "", ...a });

describe("rule matching", () => {
  const cases: [string, PolicyRule, Attributes, boolean][] = [
    [
      "exact",
      { verbs: ["get"], apiGroups: [""], resources: ["secrets"] },
      res({ verb: "get", resource: "secrets" }),
      true,
    ],
    [
      "other verb",
      { verbs: ["get"], apiGroups: [""], resources: ["secrets"] },
      res({ verb: "list", resource: "secrets" }),
      false,
    ],
    [
      "verb *",
      { verbs: ["*"], apiGroups: [""], resources: ["secrets"] },
      res({ verb: "watch", resource: "secrets" }),
      true,
    ],
    [
      "other group",
      { verbs: ["get"], apiGroups: ["apps"], resources: ["secrets"] },
      res({ verb: "get", resource: "secrets" }),
      false,
    ],
    [
      "group *",
      { verbs: ["get"], apiGroups: ["*"], resources: ["deployments"] },
      res({ verb: "get", resource: "deployments", apiGroup: "apps" }),
      true,
    ],
    [
      "no groups matches nothing",
      { verbs: ["get"], resources: ["secrets"] },
      res({ verb: "get", resource: "secrets" }),
      false,
    ],
    [
      "resource does not cover its subresource",
      { verbs: ["get"], apiGroups: [""], resources: ["pods"] },
      res({ verb: "get", resource: "pods", subresource: "log" }),
      false,
    ],
    [
      "resource/subresource",
      { verbs: ["get"], apiGroups: [""], resources: ["pods/log"] },
      res({ verb: "get", resource: "pods", subresource: "log" }),
      true,
    ],
    [
      "*/subresource",
      { verbs: ["update"], apiGroups: ["*"], resources: ["*/status"] },
      res({ verb: "update", resource: "builds", subresource: "status", apiGroup: "kiln.dev" }),
      true,
    ],
    [
      "*/subresource is not the resource",
      { verbs: ["update"], apiGroups: ["*"], resources: ["*/status"] },
      res({ verb: "update", resource: "builds", apiGroup: "kiln.dev" }),
      false,
    ],
    [
      "*/other subresource",
      { verbs: ["get"], apiGroups: [""], resources: ["*/log"] },
      res({ verb: "get", resource: "pods", subresource: "exec" }),
      false,
    ],
    [
      "resource * covers subresources",
      { verbs: ["get"], apiGroups: [""], resources: ["*"] },
      res({ verb: "get", resource: "pods", subresource: "log" }),
      true,
    ],
    [
      "resourceNames match",
      { verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["a"] },
      res({ verb: "get", resource: "secrets", name: "a" }),
      true,
    ],
    [
      "resourceNames other",
      { verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["a"] },
      res({ verb: "get", resource: "secrets", name: "b" }),
      false,
    ],
    [
      "resourceNames and a list (no name)",
      { verbs: ["list"], apiGroups: [""], resources: ["secrets"], resourceNames: ["a"] },
      res({ verb: "list", resource: "secrets" }),
      false,
    ],
    [
      "resource rule never matches a URL",
      { verbs: ["get"], apiGroups: ["*"], resources: ["*"] },
      nonResourceAttributes(user, "get", "/api"),
      false,
    ],
    [
      "URL exact",
      { verbs: ["get"], nonResourceURLs: ["/api"] },
      nonResourceAttributes(user, "get", "/api"),
      true,
    ],
    [
      "URL exact is not a prefix",
      { verbs: ["get"], nonResourceURLs: ["/api"] },
      nonResourceAttributes(user, "get", "/api/v1"),
      false,
    ],
    [
      "URL trailing *",
      { verbs: ["get"], nonResourceURLs: ["/openapi/*"] },
      nonResourceAttributes(user, "get", "/openapi/v3/apis/kiln.dev/v1alpha1"),
      true,
    ],
    [
      "URL trailing * needs the prefix",
      { verbs: ["get"], nonResourceURLs: ["/openapi/*"] },
      nonResourceAttributes(user, "get", "/openapi"),
      false,
    ],
    [
      "URL *",
      { verbs: ["*"], nonResourceURLs: ["*"] },
      nonResourceAttributes(user, "post", "/anything"),
      true,
    ],
    [
      "URL verb",
      { verbs: ["get"], nonResourceURLs: ["/healthz"] },
      nonResourceAttributes(user, "post", "/healthz"),
      false,
    ],
    [
      "URL rule never matches a resource",
      { verbs: ["*"], nonResourceURLs: ["*"] },
      res({ verb: "get", resource: "pods" }),
      false,
    ],
  ];
  for (const [name, rule, attrs, expected] of cases) {
    test(`${name} → ${expected}`, () => assert.equal(ruleAllows(attrs, rule), expected));
  }
});

describe("request attributes", () => {
  const attrs = (method: string, path: string) => requestAttributes(user, method, new URL(path, "https://x"));
  const cases: [string, string, Partial<Attributes>][] = [
    [
      "GET",
      "/api/v1/namespaces/a/secrets/s",
      { verb: "get", resource: "secrets", namespace: "a", name: "s" },
    ],
    ["GET", "/api/v1/namespaces/a/pods?watch=true", { verb: "watch", resource: "pods", namespace: "a" }],
    ["GET", "/api/v1/namespaces/a/pods?fieldSelector=metadata.name%3Dp", { verb: "list", name: "p" }],
    [
      "GET",
      "/api/v1/watch/namespaces/a/pods?fieldSelector=metadata.name!%3Dp",
      { verb: "watch", name: undefined },
    ],
    ["DELETE", "/api/v1/namespaces/a/pods", { verb: "deletecollection", resource: "pods" }],
    [
      "POST",
      "/api/v1/namespaces/a/pods/p/eviction",
      { verb: "create", resource: "pods", subresource: "eviction" },
    ],
    ["GET", "/api/v1/namespaces/a", { verb: "get", resource: "namespaces", namespace: "a", name: "a" }],
    ["GET", "/api/v1/namespaces", { verb: "list", resource: "namespaces", namespace: undefined }],
    [
      "PUT",
      "/apis/kiln.dev/v1alpha1/namespaces/a/builds/b/status",
      { verb: "update", apiGroup: "kiln.dev", subresource: "status" },
    ],
    ["GET", "/apis", { resourceRequest: false, verb: "get", path: "/apis" }],
    ["GET", "/apis/kiln.dev/v1alpha1", { resourceRequest: false, path: "/apis/kiln.dev/v1alpha1" }],
    ["HEAD", "/healthz", { resourceRequest: false, verb: "head" }],
  ];
  for (const [method, path, expected] of cases) {
    test(`${method} ${path}`, () => {
      const got = attrs(method, path);
      for (const [k, v] of Object.entries(expected)) assert.equal(got[k as keyof Attributes], v, k);
    });
  }
});

describe("forbidden messages", () => {
  test("a namespaced resource by name", () => {
    const e = denied(res({ verb: "get", resource: "secrets", namespace: "ns", name: "s" }), "");
    assert.equal(
      e.message,
      'secrets "s" is forbidden: User "system:serviceaccount:ns:sa" cannot get resource "secrets" in API group "" in the namespace "ns"',
    );
    assert.deepEqual(e.toStatus().details, { name: "s", kind: "secrets" });
  });
  test("a cluster-scoped subresource of a group, with a reason", () => {
    const e = denied(
      res({ verb: "update", resource: "builds", subresource: "status", apiGroup: "kiln.dev" }),
      "RBAC: x",
    );
    assert.equal(
      e.message,
      'builds.kiln.dev is forbidden: User "system:serviceaccount:ns:sa" cannot update resource "builds/status" in API group "kiln.dev" at the cluster scope: RBAC: x',
    );
  });
  test("a path", () => {
    const e = denied(nonResourceAttributes(user, "get", "/metrics"), "");
    assert.equal(e.message, 'forbidden: User "system:serviceaccount:ns:sa" cannot get path "/metrics"');
    assert.deepEqual(e.toStatus().details, {});
    assert.equal(
      forbiddenMessage(nonResourceAttributes(user, "get", "/<x>")),
      'User "system:serviceaccount:ns:sa" cannot get path "/<x>"',
    );
    assert.match(denied(nonResourceAttributes(user, "get", "/<x>"), "").message, /"\/&lt;x&gt;"/);
  });
});

describe("escalation coverage", () => {
  const r = (verbs: string[], groups: string[], resources: string[], names?: string[]): PolicyRule => ({
    verbs,
    apiGroups: groups,
    resources,
    ...(names ? { resourceNames: names } : {}),
  });
  const cases: [string, PolicyRule[], PolicyRule[], boolean][] = [
    ["same rule", [r(["get"], [""], ["secrets"])], [r(["get"], [""], ["secrets"])], true],
    ["more verbs wanted", [r(["get"], [""], ["secrets"])], [r(["get", "list"], [""], ["secrets"])], false],
    [
      "split across owner rules",
      [r(["get"], [""], ["secrets"]), r(["list"], [""], ["secrets"])],
      [r(["get", "list"], [""], ["secrets"])],
      true,
    ],
    ["verb *", [r(["*"], [""], ["secrets"])], [r(["delete"], [""], ["secrets"])], true],
    ["group *", [r(["get"], ["*"], ["*"])], [r(["get"], ["kiln.dev"], ["builds"])], true],
    ["subresource via */sub", [r(["get"], [""], ["*/log"])], [r(["get"], [""], ["pods/log"])], true],
    [
      "resource does not cover subresource",
      [r(["get"], [""], ["pods"])],
      [r(["get"], [""], ["pods/log"])],
      false,
    ],
    [
      "named owner covers the same name",
      [r(["get"], [""], ["secrets"], ["a"])],
      [r(["get"], [""], ["secrets"], ["a"])],
      true,
    ],
    [
      "named owner does not cover all names",
      [r(["get"], [""], ["secrets"], ["a"])],
      [r(["get"], [""], ["secrets"])],
      false,
    ],
    [
      "unnamed owner covers a name",
      [r(["get"], [""], ["secrets"])],
      [r(["get"], [""], ["secrets"], ["b"])],
      true,
    ],
    [
      "URL prefix",
      [{ verbs: ["get"], nonResourceURLs: ["/apis/*"] }],
      [{ verbs: ["get"], nonResourceURLs: ["/apis/x"] }],
      true,
    ],
    [
      "URL not held",
      [{ verbs: ["get"], nonResourceURLs: ["/api"] }],
      [{ verbs: ["get"], nonResourceURLs: ["/apis"] }],
      false,
    ],
    ["nothing wanted", [], [], true],
  ];
  for (const [name, owner, servant, expected] of cases) {
    test(`${name} → ${expected}`, () => assert.equal(covers(owner, servant).covered, expected));
  }
  test("what is missing, compacted and described as kube prints it", () => {
    const { missing } = covers(
      [r(["get"], [""], ["secrets"])],
      [r(["get", "list", "watch"], ["", "apps"], ["secrets"], undefined)],
    );
    const described = compactRules(missing).map(compactString).sort();
    assert.deepEqual(described, [
      '{APIGroups:[""], Resources:["secrets"], Verbs:["list" "watch"]}',
      '{APIGroups:["apps"], Resources:["secrets"], Verbs:["get" "list" "watch"]}',
    ]);
    assert.equal(
      compactString({ verbs: ["get"], nonResourceURLs: ["/x"] }),
      '{NonResourceURLs:["/x"], Verbs:["get"]}',
    );
    assert.equal(
      compactString(r(["get"], [""], ["secrets"], ["a"])),
      '{APIGroups:[""], Resources:["secrets"], ResourceNames:["a"], Verbs:["get"]}',
    );
  });
});

describe("aggregation", () => {
  const role = (name: string, labels: Record<string, string>, rules: PolicyRule[]): RoleObject => ({
    metadata: { name, labels },
    rules,
  });
  test("selected roles' rules, by name, each once, never its own", () => {
    const a: PolicyRule = { verbs: ["get"], apiGroups: [""], resources: ["pods"] };
    const b: PolicyRule = { verbs: ["list"], apiGroups: [""], resources: ["pods"] };
    const agg: RoleObject = {
      metadata: { name: "agg", labels: { x: "true" } },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: "true" } }] },
      rules: [a],
    };
    const all = [
      agg,
      role("z", { x: "true" }, [b, a]),
      role("m", { x: "true" }, [a]),
      role("o", { x: "no" }, [b]),
    ];
    assert.deepEqual(aggregatedRules(agg, all), [a, b]);
    const expr: RoleObject = {
      ...agg,
      aggregationRule: {
        clusterRoleSelectors: [{ matchExpressions: [{ key: "x", operator: "NotIn", values: ["true"] }] }],
      },
    };
    assert.deepEqual(aggregatedRules(expr, all), [b]);
  });
});

describe("impersonation headers", () => {
  test("a service account, groups, extras and a uid, in kube's order", () => {
    const refs = impersonationRequests(
      headerValues([
        "Impersonate-User",
        "system:serviceaccount:kiln:kiln-webhook",
        "Impersonate-Group",
        "a",
        "Impersonate-Group",
        "b",
        "Impersonate-Extra-Scopes%2Fx",
        "read",
        "Impersonate-Uid",
        "u1",
        "Authorization",
        "Bearer t",
      ]),
    );
    assert.deepEqual(refs, [
      { kind: "ServiceAccount", namespace: "kiln", name: "kiln-webhook" },
      { kind: "Group", name: "a" },
      { kind: "Group", name: "b" },
      { kind: "UserExtra", apiVersion: "authentication.k8s.io/v1", name: "read", fieldPath: "scopes/x" },
      { kind: "UID", name: "u1", apiVersion: "authentication.k8s.io/v1" },
    ]);
  });
  test("groups without a user are refused as kube words it", () => {
    assert.equal(
      impersonationRequests(headerValues(["Impersonate-Group", "g"])),
      "requested [{Group  g    }] without impersonating a user",
    );
  });
  test("service-account usernames", () => {
    assert.deepEqual(splitServiceAccountUsername("system:serviceaccount:a:b"), { namespace: "a", name: "b" });
    assert.equal(splitServiceAccountUsername("system:serviceaccount:a:b:c"), undefined);
    assert.equal(splitServiceAccountUsername("system:serviceaccount:a"), undefined);
    assert.equal(splitServiceAccountUsername("bob"), undefined);
  });
});

describe("RBAC validation", () => {
  test("policy rules", () => {
    const fields = (rule: Partial<PolicyRule>, namespaced: boolean) =>
      policyRuleCauses(rule as PolicyRule, namespaced, "rules[0]").map((c) => `${c.field}: ${c.message}`);
    assert.deepEqual(fields({ verbs: ["get"], apiGroups: [""], resources: ["pods"] }, true), []);
    assert.deepEqual(fields({ verbs: [], apiGroups: [""], resources: ["pods"] }, true), [
      "rules[0].verbs: Required value: verbs must contain at least one value",
    ]);
    assert.deepEqual(fields({ verbs: ["get"] }, false), [
      "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
      "rules[0].resources: Required value: resource rules must supply at least one resource",
    ]);
    assert.deepEqual(fields({ verbs: ["get"], nonResourceURLs: ["/x"] }, true), [
      'rules[0].nonResourceURLs: Invalid value: []string{"/x"}: namespaced rules cannot apply to non-resource URLs',
    ]);
  });
  test("bindings: roleRef, subjects, and a roleRef that never changes", () => {
    const binding = (roleRef: object, subjects: object[]) =>
      ({ metadata: { name: "b" }, roleRef, subjects }) as never;
    const ok = { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" };
    const crb = rbacCauses("ClusterRoleBinding");
    assert.deepEqual(
      crb(binding(ok, [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "u" }]), undefined),
      [],
    );
    assert.deepEqual(
      crb(binding({ ...ok, kind: "Thing" }, [{ kind: "ServiceAccount", name: "sa" }]), undefined).map(
        (c) => `${c.field}: ${c.message}`,
      ),
      [
        'roleRef.kind: Unsupported value: "Thing": supported values: "Role", "ClusterRole"',
        "subjects[0].namespace: Required value",
      ],
    );
    assert.deepEqual(
      rbacCauses("RoleBinding")(binding(ok, [{ kind: "Robot", name: "r" }]), undefined).map((c) => c.field),
      ["subjects[0].kind"],
    );
    const changed = crb(binding({ ...ok, name: "edit" }, []), binding(ok, []));
    assert.deepEqual(
      changed.map((c) => `${c.field}: ${c.message}`),
      [
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef',
      ],
    );
  });
  test("names are path segments", () => {
    assert.deepEqual(pathSegmentErrors("system:node"), []);
    assert.deepEqual(pathSegmentErrors(".."), ["may not be '..'"]);
    assert.deepEqual(pathSegmentErrors("a/b%"), ["may not contain '/'", "may not contain '%'"]);
  });
});
