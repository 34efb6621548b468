// The PodSecurity admission decisions, with namespaces and pods given directly: what is evaluated,
// refused, warned about and annotated for audit, as kube's plugin decides.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeObject } from "../storage.ts";
import { type AdmissionDeps, type Attributes, isSignificantPodUpdate, validate } from "./admission.ts";
import { type PodSecurityConfiguration, resolveConfiguration } from "./config.ts";
import { newEvaluator } from "./evaluator.ts";
import { policyToEvaluate } from "./levels.ts";

const L = "pod-security.kubernetes.io/";
const evaluator = newEvaluator();

function deps(
  namespaces: Record<string, Record<string, string>>,
  pods: KubeObject[] = [],
  config: PodSecurityConfiguration = {},
  now: () => number = () => 0,
): AdmissionDeps {
  const resolved = resolveConfiguration(config);
  return {
    config: resolved,
    evaluator,
    namespacePolicy: (name) =>
      namespaces[name] ? policyToEvaluate(namespaces[name], resolved.defaults) : undefined,
    listPods: (ns) => pods.filter((p) => p.metadata.namespace === ns),
    now,
  };
}

const rootPod = (name = "p", extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "ns" },
  spec: { containers: [{ name: "x", image: "busybox" }], ...extra },
});

const restrictedPod = (name = "p"): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "ns" },
  spec: {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      {
        name: "x",
        image: "busybox",
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      },
    ],
  },
});

const podCreate = (object: KubeObject, extra: Partial<Attributes> = {}): Attributes => ({
  operation: "create",
  group: "",
  resource: "pods",
  namespace: "ns",
  name: object.metadata.name!,
  object,
  ...extra,
});

const ROOT_RESTRICTED =
  'allowPrivilegeEscalation != false (container "x" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "x" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "x" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "x" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';

describe("pods", () => {
  test("enforce refuses with 403 naming every violated check", () => {
    const r = validate(podCreate(rootPod()), deps({ ns: { [`${L}enforce`]: "restricted" } }));
    assert.equal(r.allowed, false);
    assert.equal(r.error?.code, 403);
    assert.equal(r.error?.reason, "Forbidden");
    assert.equal(
      r.error?.message,
      `pods "p" is forbidden: violates PodSecurity "restricted:latest": ${ROOT_RESTRICTED}`,
    );
    assert.deepEqual(r.error?.details, { name: "p", kind: "pods" });
    assert.deepEqual(r.warnings, [], "no warnings on a refused request");
    assert.deepEqual(r.auditAnnotations, { "enforce-policy": "restricted:latest" });
  });

  test("a compliant pod is admitted without warnings", () => {
    const r = validate(podCreate(restrictedPod()), deps({ ns: { [`${L}enforce`]: "restricted" } }));
    assert.deepEqual([r.allowed, r.warnings], [true, []]);
  });

  test("warn and audit admit, warn says what would be refused, audit records it", () => {
    const labels = { [`${L}enforce`]: "baseline", [`${L}warn`]: "restricted", [`${L}audit`]: "restricted" };
    const r = validate(podCreate(rootPod()), deps({ ns: labels }));
    assert.equal(r.allowed, true);
    assert.deepEqual(r.warnings, [`would violate PodSecurity "restricted:latest": ${ROOT_RESTRICTED}`]);
    assert.deepEqual(r.auditAnnotations, {
      "enforce-policy": "baseline:latest",
      "audit-violations": `would violate PodSecurity "restricted:latest": ${ROOT_RESTRICTED}`,
    });
  });

  test("a pinned version evaluates the checks of that version", () => {
    const labels = { [`${L}enforce`]: "restricted", [`${L}enforce-version`]: "v1.21" };
    const r = validate(podCreate(rootPod()), deps({ ns: labels }));
    assert.match(
      r.error!.message,
      /^pods "p" is forbidden: violates PodSecurity "restricted:v1.21": allowPrivilegeEscalation/,
    );
    assert.doesNotMatch(r.error!.message, /unrestricted capabilities/);
  });

  test("unlabelled namespaces are privileged: nothing evaluated", () => {
    const r = validate(podCreate(rootPod("p", { hostNetwork: true })), deps({ ns: {} }));
    assert.deepEqual(r, {
      allowed: true,
      warnings: [],
      auditAnnotations: { "enforce-policy": "privileged:latest" },
    });
  });

  test("an invalid enforce label enforces restricted and annotates the error", () => {
    const r = validate(podCreate(rootPod()), deps({ ns: { [`${L}enforce`]: "strict" } }));
    assert.equal(r.allowed, false);
    assert.match(r.error!.message, /violates PodSecurity "restricted:latest"/);
    assert.equal(
      r.auditAnnotations.error,
      `Failed to parse policy: metadata.labels[${L}enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`,
    );
  });

  test("subresources that cannot change the spec are not evaluated; others are", () => {
    const d = deps({ ns: { [`${L}enforce`]: "restricted" } });
    for (const subresource of ["status", "binding", "eviction", "exec", "log"])
      assert.equal(
        validate(podCreate(rootPod(), { operation: "update", subresource }), d).allowed,
        true,
        subresource,
      );
    const ephemeral = {
      operation: "update" as const,
      subresource: "ephemeralcontainers",
      old: restrictedPod(),
    };
    const withDebug = restrictedPod();
    (withDebug.spec as { ephemeralContainers?: object[] }).ephemeralContainers = [
      { name: "debug", image: "busybox" },
    ];
    assert.equal(validate(podCreate(withDebug, ephemeral), d).allowed, false);
  });

  test("updates are evaluated only when significant", () => {
    const d = deps({ ns: { [`${L}enforce`]: "restricted" } });
    const old = rootPod();
    const relabelled = { ...rootPod(), metadata: { ...old.metadata, labels: { a: "b" } } };
    assert.equal(validate(podCreate(relabelled, { operation: "update", old }), d).allowed, true);
    const newImage = rootPod();
    (newImage.spec as { containers: { image: string }[] }).containers[0]!.image = "busybox:2";
    assert.equal(validate(podCreate(newImage, { operation: "update", old }), d).allowed, false);
  });

  test("significant updates: images, container counts, ephemeral containers added or changed", () => {
    const pod = (containers: object[], ephemeralContainers: object[] = []): KubeObject => ({
      metadata: { name: "p" },
      spec: { containers, ephemeralContainers },
    });
    const a = { name: "a", image: "1" };
    const cases: [string, KubeObject, KubeObject, boolean][] = [
      ["same", pod([a]), pod([a]), false],
      ["other fields", pod([{ ...a, env: [{ name: "X" }] }]), pod([a]), false],
      ["image", pod([{ ...a, image: "2" }]), pod([a]), true],
      ["container added", pod([a, { name: "b" }]), pod([a]), true],
      ["ephemeral added", pod([a], [{ name: "d", image: "x" }]), pod([a]), true],
      ["ephemeral same", pod([a], [{ name: "d", image: "x" }]), pod([a], [{ name: "d", image: "x" }]), false],
      ["ephemeral image", pod([a], [{ name: "d", image: "y" }]), pod([a], [{ name: "d", image: "x" }]), true],
    ];
    for (const [name, next, old, expected] of cases)
      assert.equal(isSignificantPodUpdate(next, old), expected, name);
  });

  test("exemptions: namespace, user, runtime class", () => {
    const ns = { ns: { [`${L}enforce`]: "restricted" } };
    const config = { exemptions: { namespaces: ["ns"] } };
    assert.deepEqual(validate(podCreate(rootPod()), deps(ns, [], config)).auditAnnotations, {
      exempt: "namespace",
    });
    const byUser = deps(ns, [], {
      exemptions: { usernames: ["system:serviceaccount:kube-system:replicaset-controller"] },
    });
    const asController = podCreate(rootPod(), {
      username: "system:serviceaccount:kube-system:replicaset-controller",
    });
    assert.deepEqual(validate(asController, byUser).auditAnnotations, { exempt: "user" });
    assert.equal(validate(podCreate(rootPod(), { username: "someone" }), byUser).allowed, false);
    const byClass = deps(ns, [], { exemptions: { runtimeClasses: ["gvisor"] } });
    assert.equal(validate(podCreate(rootPod("p", { runtimeClassName: "gvisor" })), byClass).allowed, true);
    assert.equal(validate(podCreate(rootPod("p", { runtimeClassName: "runc" })), byClass).allowed, false);
  });

  test("configured defaults apply to namespaces without labels", () => {
    const r = validate(
      podCreate(rootPod()),
      deps({ ns: {} }, [], { defaults: { enforce: "baseline", warn: "restricted" } }),
    );
    assert.equal(r.allowed, true);
    assert.equal(r.warnings.length, 1);
  });
});

describe("pod templates", () => {
  const deployment = (spec: object): KubeObject => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d", namespace: "ns" },
    spec: { template: { metadata: { labels: { app: "a" } }, spec } },
  });
  const attrs = (o: KubeObject, extra: Partial<Attributes> = {}): Attributes => ({
    operation: "create",
    group: "apps",
    resource: "deployments",
    namespace: "ns",
    name: "d",
    object: o,
    ...extra,
  });

  test("are never enforced: a warning instead, with the audit violation", () => {
    const r = validate(
      attrs(deployment(rootPod().spec as object)),
      deps({ ns: { [`${L}enforce`]: "restricted" } }),
    );
    assert.equal(r.allowed, true);
    assert.deepEqual(r.warnings, [`would violate PodSecurity "restricted:latest": ${ROOT_RESTRICTED}`]);
    assert.deepEqual(r.auditAnnotations, {});
  });

  test("their subresources, and privileged warn and audit, are not evaluated", () => {
    const d = deps({ ns: { [`${L}enforce`]: "restricted" } });
    assert.deepEqual(
      validate(attrs(deployment({}), { subresource: "status", operation: "update" }), d).warnings,
      [],
    );
    assert.deepEqual(
      validate(attrs(deployment(rootPod().spec as object)), deps({ ns: { [`${L}enforce`]: "baseline" } }))
        .warnings,
      [],
    );
  });

  test("every kind with a pod template, cron jobs included", () => {
    const d = deps({ ns: { [`${L}warn`]: "baseline" } });
    const host = { hostNetwork: true, containers: [{ name: "x" }] };
    const template = { spec: host };
    const kinds: [string, string, object][] = [
      ["", "podtemplates", { template }],
      ["", "replicationcontrollers", { spec: { template } }],
      ["apps", "replicasets", { spec: { template } }],
      ["apps", "statefulsets", { spec: { template } }],
      ["apps", "daemonsets", { spec: { template } }],
      ["batch", "jobs", { spec: { template } }],
      ["batch", "cronjobs", { spec: { jobTemplate: { spec: { template } } } }],
    ];
    for (const [group, resource, body] of kinds) {
      const o = { metadata: { name: "w", namespace: "ns" }, ...body } as KubeObject;
      const r = validate({ operation: "create", group, resource, namespace: "ns", name: "w", object: o }, d);
      assert.deepEqual(
        r.warnings,
        ['would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)'],
        resource,
      );
    }
  });
});

describe("namespaces", () => {
  const nsAttrs = (
    labels: Record<string, string>,
    oldLabels?: Record<string, string>,
    name = "ns",
  ): Attributes => ({
    operation: oldLabels ? "update" : "create",
    group: "",
    resource: "namespaces",
    namespace: name,
    name,
    object: { metadata: { name, labels } },
    old: oldLabels ? { metadata: { name, labels: oldLabels } } : undefined,
  });

  test("invalid labels refuse a create with 422", () => {
    const r = validate(nsAttrs({ [`${L}enforce`]: "strict" }), deps({}));
    assert.equal(r.error?.code, 422);
    assert.equal(
      r.error?.message,
      `Namespace "ns" is invalid: metadata.labels[${L}enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`,
    );
    assert.deepEqual(r.error?.details?.causes, [
      {
        reason: "FieldValueInvalid",
        message: 'Invalid value: "strict": must be one of privileged, baseline, restricted',
        field: `metadata.labels[${L}enforce]`,
      },
    ]);
  });

  test("an update keeping the same invalid labels passes; a new invalid one is refused", () => {
    const bad = { [`${L}enforce`]: "strict" };
    assert.equal(validate(nsAttrs({ ...bad, other: "x" }, bad), deps({})).allowed, true);
    assert.equal(validate(nsAttrs({ ...bad, [`${L}warn`]: "x" }, bad), deps({})).allowed, false);
  });

  const pod = (name: string, owner?: string, extra: Record<string, unknown> = {}): KubeObject => ({
    ...rootPod(name, extra),
    metadata: {
      name,
      namespace: "ns",
      ...(owner
        ? { ownerReferences: [{ apiVersion: "v1", kind: "X", name: owner, uid: owner, controller: true }] }
        : {}),
    },
  });

  test("tightening enforce warns about existing pods, grouped by reasons", () => {
    const pods = [pod("c"), pod("b"), pod("a", undefined, { hostPID: true }), restrictedPod("ok"), pod("d")];
    const r = validate(nsAttrs({ [`${L}enforce`]: "restricted" }, {}), deps({}, pods));
    assert.equal(r.allowed, true);
    assert.deepEqual(r.warnings, [
      'existing pods in namespace "ns" violate the new PodSecurity enforce level "restricted:latest"',
      "a: host namespaces, allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile",
      "b (and 2 other pods): allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile",
    ]);
  });

  test("no dry run when enforce is unchanged, privileged, or looser at the same version", () => {
    const pods = [pod("a")];
    const d = deps({}, pods);
    const R = { [`${L}enforce`]: "restricted" };
    assert.deepEqual(validate(nsAttrs({ ...R, x: "y" }, R), d).warnings, []);
    assert.deepEqual(validate(nsAttrs({ [`${L}enforce`]: "privileged" }, R), d).warnings, []);
    assert.deepEqual(validate(nsAttrs({ [`${L}enforce`]: "baseline" }, R), d).warnings, []);
    // Looser level but another version: evaluated.
    const pinned = { [`${L}enforce`]: "baseline", [`${L}enforce-version`]: "v1.30" };
    assert.deepEqual(
      validate(nsAttrs(pinned, R), deps({}, [pod("h", undefined, { hostPID: true })])).warnings,
      [
        'existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:v1.30"',
        "h: host namespaces",
      ],
    );
  });

  test("one pod per controller first; past the deadline the warning says how many were checked", () => {
    let clock = 0;
    const pods = [pod("r1", "rs"), pod("r2", "rs"), pod("solo")];
    const slow = deps({}, pods, {}, () => {
      clock += 600;
      return clock;
    });
    const r = validate(nsAttrs({ [`${L}enforce`]: "baseline" }, {}), slow);
    assert.deepEqual(r.warnings, [
      "new PodSecurity enforce level only checked against the first 2 of 3 existing pods",
    ]);
    clock = 0;
    const hostPods = [
      pod("r1", "rs", { hostPID: true }),
      pod("r2", "rs", { hostPID: true }),
      pod("solo", undefined, { hostPID: true }),
    ];
    const timed = deps({}, hostPods, {}, () => {
      clock += 600;
      return clock;
    });
    assert.deepEqual(validate(nsAttrs({ [`${L}enforce`]: "baseline" }, {}), timed).warnings, [
      "new PodSecurity enforce level only checked against the first 2 of 3 existing pods",
      'existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest"',
      "r1 (and 1 other pod): host namespaces",
    ]);
  });

  test("exempt namespaces get a warning that their labels are ignored", () => {
    const d = deps({}, [pod("a")], { exemptions: { namespaces: ["ns"] } });
    const labels = { [`${L}enforce`]: "restricted", [`${L}audit`]: "baseline" };
    const warning =
      'namespace "ns" is exempt from Pod Security, and the policy (enforce=restricted:latest, audit=baseline:latest) will be ignored';
    assert.deepEqual(validate(nsAttrs(labels), d).warnings, [warning]);
    assert.deepEqual(validate(nsAttrs(labels, {}), d).warnings, [warning]);
  });
});
