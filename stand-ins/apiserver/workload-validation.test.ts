// Table tests of kube's validation of the workload and networking kinds: each case must be refused with
// the field and message kube-apiserver gives, or accepted.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { deploymentCauses, deploymentDefaults, replicaSetCauses } from "./apps.ts";
import {
  ingressCauses,
  ingressClassCauses,
  networkPolicyCauses,
  networkPolicyDefaults,
} from "./networking.ts";
import { podDisruptionBudgetCauses } from "./policy.ts";
import type { KubeObject } from "./storage.ts";

const template = {
  metadata: { labels: { app: "web" } },
  spec: { containers: [{ name: "c", image: "busybox" }] },
};

function deployment(spec: Record<string, unknown>): KubeObject {
  const d: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: { selector: { matchLabels: { app: "web" } }, template: structuredClone(template), ...spec },
  };
  deploymentDefaults(d);
  return d;
}

const messages = (causes: { field?: string; message?: string }[]) =>
  causes.map((c) => `${c.field}: ${c.message}`);

describe("Deployments", () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["valid", {}, []],
    [
      "negative replicas",
      { replicas: -1 },
      ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
    ],
    [
      "selector not matching the labels",
      { selector: { matchLabels: { app: "other" } } },
      [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
      ],
    ],
    [
      "an empty selector",
      { selector: {} },
      [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
      ],
    ],
    [
      "restartPolicy Never",
      { template: { ...template, spec: { ...template.spec, restartPolicy: "Never" } } },
      ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    ],
    [
      "both fenceposts 0",
      { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
      [
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
      ],
    ],
    [
      "maxUnavailable over 100%",
      { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: "150%" } } },
      [
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%',
      ],
    ],
    [
      "Recreate with rollingUpdate",
      { strategy: { type: "Recreate", rollingUpdate: {} } },
      ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
    ],
    [
      "a deadline not above minReadySeconds",
      { minReadySeconds: 10, progressDeadlineSeconds: 10 },
      ["spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds"],
    ],
  ];
  for (const [name, spec, want] of cases)
    test(name, () => assert.deepEqual(messages(deploymentCauses(deployment(spec), undefined)), want));
  test("the selector is immutable", () => {
    const old = deployment({});
    const next = deployment({
      selector: { matchLabels: { app: "web", x: "y" } },
      template: { ...template, metadata: { labels: { app: "web", x: "y" } } },
    });
    assert.deepEqual(messages(deploymentCauses(next, old)), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "x":"y"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });
  test("defaults", () => {
    const d = deployment({});
    assert.deepEqual(
      { ...(d.spec as Record<string, unknown>), template: undefined, selector: undefined },
      {
        replicas: 1,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        template: undefined,
        selector: undefined,
      },
    );
    const podSpec = (d.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    assert.equal(podSpec.restartPolicy, "Always");
    assert.equal(
      podSpec.serviceAccountName,
      undefined,
      "admission, not defaulting, names the service account",
    );
    const probed = deployment({
      template: {
        ...template,
        spec: { containers: [{ name: "c", image: "x", readinessProbe: { httpGet: { port: 80 } } }] },
      },
    });
    const probe = (probed.spec as { template: { spec: { containers: { readinessProbe: unknown }[] } } })
      .template.spec.containers[0]!.readinessProbe;
    assert.deepEqual(probe, {
      httpGet: { port: 80, path: "/", scheme: "HTTP" },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });
  test("a ReplicaSet needs a selector", () => {
    const rs: KubeObject = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "x" },
      spec: { replicas: 1, template },
    };
    assert.deepEqual(messages(replicaSetCauses(rs, undefined)), ["spec.selector: Required value"]);
  });
});

describe("Ingresses", () => {
  const backend = { service: { name: "web", port: { number: 80 } } };
  const ingress = (spec: Record<string, unknown>, annotations?: Record<string, string>): KubeObject => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "web", annotations },
    spec,
  });
  const rule = (path: Record<string, unknown>, host = "kiln.example.com") => ({
    rules: [{ host, http: { paths: [path] } }],
  });
  const cases: [string, KubeObject, string[]][] = [
    ["valid", ingress(rule({ path: "/hooks", pathType: "Prefix", backend })), []],
    [
      "no rules and no default backend",
      ingress({}),
      [
        "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified",
      ],
    ],
    [
      "a path without pathType",
      ingress(rule({ path: "/", backend })),
      ["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"],
    ],
    [
      "an unknown pathType",
      ingress(rule({ path: "/", pathType: "Regex", backend })),
      [
        'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
      ],
    ],
    [
      "a relative Prefix path",
      ingress(rule({ path: "hooks", pathType: "Prefix", backend })),
      ['spec.rules[0].http.paths[0].path: Invalid value: "hooks": must be an absolute path'],
    ],
    [
      "an IP as host",
      ingress(rule({ path: "/", pathType: "Prefix", backend }, "10.0.0.1")),
      ['spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address'],
    ],
    [
      "a backend without a port",
      ingress(rule({ path: "/", pathType: "Prefix", backend: { service: { name: "web" } } })),
      ["spec.rules[0].http.paths[0].backend: Required value: port name or number is required"],
    ],
    [
      "a bad TLS host",
      ingress({
        ...rule({ path: "/", pathType: "Prefix", backend }),
        tls: [{ hosts: ["Kiln.Example.com"], secretName: "tls" }],
      }),
      [
        `spec.tls[0].hosts[0]: Invalid value: "Kiln.Example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      ],
    ],
    [
      "class field and annotation",
      ingress(
        { ingressClassName: "nginx", defaultBackend: backend },
        { "kubernetes.io/ingress.class": "nginx" },
      ),
      [
        'annotations.kubernetes.io/ingress.class: Invalid value: "nginx": can not be set when the class field is also set',
      ],
    ],
  ];
  for (const [name, o, want] of cases)
    test(name, () => assert.deepEqual(messages(ingressCauses(o, undefined)), want));
  test("an IngressClass controller must be a domain-prefixed path", () => {
    const ic = (controller: string): KubeObject => ({ metadata: { name: "nginx" }, spec: { controller } });
    assert.deepEqual(messages(ingressClassCauses(ic("k8s.io/ingress-nginx"), undefined)), []);
    assert.deepEqual(messages(ingressClassCauses(ic("nginx"), undefined)), [
      'spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")',
    ]);
  });
});

describe("NetworkPolicies and PodDisruptionBudgets", () => {
  test("policy defaults and port/peer rules", () => {
    const np: KubeObject = {
      metadata: { name: "np" },
      spec: {
        podSelector: {},
        ingress: [{ ports: [{ port: 8080 }], from: [{}] }],
        egress: [{ ports: [{ port: "http", endPort: 90 }] }],
      },
    };
    networkPolicyDefaults(np);
    assert.deepEqual((np.spec as { policyTypes: string[] }).policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(messages(networkPolicyCauses(np)), [
      "spec.ingress[0].from[0]: Required value: must specify a peer",
      "spec.egress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric",
    ]);
  });
  test("a budget may not set both minAvailable and maxUnavailable, nor exceed 100%", () => {
    const both: KubeObject = {
      metadata: { name: "b" },
      spec: { minAvailable: 1, maxUnavailable: "200%", selector: {} },
    };
    assert.deepEqual(
      podDisruptionBudgetCauses(both).map((c) => c.field),
      ["spec", "spec.maxUnavailable"],
    );
    assert.deepEqual(
      podDisruptionBudgetCauses({ metadata: { name: "b" }, spec: { minAvailable: "50%" } }),
      [],
    );
  });
});
