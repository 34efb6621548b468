// The PodSecurity admission decision for one write, as kube's plugin makes it (the library's
// admission.Admission): namespaces (label validation, and a dry run of the namespace's pods when the
// enforce level tightens), pods (enforce, audit, warn; updates only when they matter) and workload
// resources with pod templates (audit and warn only, never enforce). Pure apart from the deps.
import { ApiError, forbidden, invalid } from "../errors.ts";
import type { KubeObject } from "../storage.ts";
import type { ResolvedConfiguration } from "./config.ts";
import { aggregate, type Evaluator, forbiddenDetail, forbiddenReason } from "./evaluator.ts";
import { byteOrder } from "./go-text.ts";
import {
  compareLevels,
  equivalentPolicy,
  type FieldError,
  fieldErrorBody,
  fieldErrorText,
  fullyPrivileged,
  LABELS,
  type LevelVersion,
  levelVersionString,
  type Policy,
  policyToEvaluate,
  sameLevelVersion,
} from "./levels.ts";
import type { PodMetadata, PodSpec } from "./pod-spec.ts";
import { extractPodSpec, hasPodSpec } from "./pod-templates.ts";

export interface Attributes {
  operation: "create" | "update";
  group: string;
  resource: string;
  subresource?: string;
  /** The request's namespace; a Namespace's own name for namespaces. */
  namespace: string;
  name: string;
  object: KubeObject;
  old?: KubeObject;
  /** The requesting user; undefined for the server's own writes. */
  username?: string;
}

export interface Response {
  allowed: boolean;
  /** Why not, when not allowed. */
  error?: ApiError;
  warnings: string[];
  /** Keys without the pod-security.kubernetes.io/ prefix kube's plugin adds. */
  auditAnnotations: Record<string, string>;
}

export interface AdmissionDeps {
  config: ResolvedConfiguration;
  evaluator: Evaluator;
  /** A namespace's policy from its labels, or undefined when there is no such namespace. */
  namespacePolicy(name: string): { policy: Policy; errors: FieldError[] } | undefined;
  listPods(namespace: string): KubeObject[];
  /** A clock in milliseconds, for the deadline of checking a namespace's pods. */
  now(): number;
}

/** kube's limits on checking existing pods when a namespace's enforce level changes. */
export const NAMESPACE_MAX_PODS_TO_CHECK = 3000;
export const NAMESPACE_POD_CHECK_TIMEOUT_MS = 1000;

const allowed = (auditAnnotations: Record<string, string> = {}): Response => ({
  allowed: true,
  warnings: [],
  auditAnnotations,
});

// Subresources that cannot change a pod's spec; any other (ephemeralcontainers, resize) is evaluated.
const IGNORED_POD_SUBRESOURCES = new Set([
  "exec",
  "attach",
  "binding",
  "eviction",
  "log",
  "portforward",
  "proxy",
  "status",
]);

/** apimachinery's aggregate error text: one message alone, several (deduplicated) in brackets. */
function aggregateText(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(", ")}]`;
}

export function validate(attrs: Attributes, deps: AdmissionDeps): Response {
  if (attrs.group === "" && attrs.resource === "namespaces") return validateNamespace(attrs, deps);
  if (attrs.group === "" && attrs.resource === "pods") return validatePod(attrs, deps);
  if (hasPodSpec(attrs.group, attrs.resource)) return validatePodController(attrs, deps);
  return allowed();
}

const notFoundText = (namespace: string) => `namespaces "${namespace}" not found`;

function exemptNamespace(deps: AdmissionDeps, namespace: string): boolean {
  return namespace !== "" && deps.config.exemptions.namespaces.has(namespace);
}

function exemptUser(deps: AdmissionDeps, username: string | undefined): boolean {
  return !!username && deps.config.exemptions.usernames.has(username);
}

function labelsOf(o: KubeObject | undefined): Record<string, string> {
  return (o?.metadata.labels ?? {}) as Record<string, string>;
}

function invalidLabels(attrs: Attributes, errors: FieldError[]): Response {
  const causes = errors.map((e) => ({
    reason: "FieldValueInvalid",
    message: fieldErrorBody(e),
    field: e.field,
  }));
  return { ...allowed(), allowed: false, error: invalid("", "Namespace", attrs.name, causes) };
}

function validateNamespace(attrs: Attributes, deps: AdmissionDeps): Response {
  if (attrs.subresource) return allowed();
  const labels = labelsOf(attrs.object);
  const next = policyToEvaluate(labels, deps.config.defaults);
  const exemptWarning = (): Response | undefined => {
    const warning = exemptNamespaceWarning(attrs.object.metadata.name ?? "", next.policy, labels, deps);
    return warning ? { ...allowed(), warnings: [warning] } : undefined;
  };
  if (attrs.operation === "create") {
    if (next.errors.length > 0) return invalidLabels(attrs, next.errors);
    if (exemptNamespace(deps, attrs.namespace)) return exemptWarning() ?? allowed();
    return allowed();
  }
  const before = policyToEvaluate(labelsOf(attrs.old), deps.config.defaults);
  const sameErrors = JSON.stringify(next.errors) === JSON.stringify(before.errors);
  if (next.errors.length > 0 && (before.errors.length === 0 || !sameErrors))
    return invalidLabels(attrs, next.errors);
  const enforce = next.policy.enforce;
  const old = before.policy.enforce;
  // Nothing to dry-run: the same level, privileged, or a looser level at the same version.
  if (sameLevelVersion(enforce, old) || enforce.level === "privileged") return allowed();
  if (enforce.version === old.version && compareLevels(enforce.level, old.level) < 1) return allowed();
  if (exemptNamespace(deps, attrs.namespace)) return exemptWarning() ?? allowed();
  return { ...allowed(), warnings: evaluatePodsInNamespace(attrs.object.metadata.name ?? "", enforce, deps) };
}

/** The warning an exempt namespace gets when its labels ask for more than privileged. */
function exemptNamespaceWarning(
  namespace: string,
  policy: Policy,
  labels: Record<string, string>,
  deps: AdmissionDeps,
): string {
  if (fullyPrivileged(policy) || equivalentPolicy(policy, deps.config.defaults)) return "";
  const has = (key: string) => Object.hasOwn(labels, key);
  const parts: string[] = [];
  const modes = [
    ["enforce", LABELS.enforce, LABELS.enforceVersion],
    ["audit", LABELS.audit, LABELS.auditVersion],
    ["warn", LABELS.warn, LABELS.warnVersion],
  ] as const;
  for (const [mode, level, version] of modes) {
    const lv = policy[mode];
    if (lv.level !== "privileged" && (has(level) || has(version)))
      parts.push(`${mode}=${levelVersionString(lv)}`);
  }
  return `namespace "${namespace}" is exempt from Pod Security, and the policy (${parts.join(", ")}) will be ignored`;
}

function validatePod(attrs: Attributes, deps: AdmissionDeps): Response {
  if (attrs.subresource && IGNORED_POD_SUBRESOURCES.has(attrs.subresource)) return allowed();
  if (exemptNamespace(deps, attrs.namespace)) return allowed({ exempt: "namespace" });
  if (exemptUser(deps, attrs.username)) return allowed({ exempt: "user" });
  const ns = deps.namespacePolicy(attrs.namespace);
  if (!ns) {
    const cause = `failed to lookup namespace "${attrs.namespace}"`;
    const message = `Internal error occurred: ${cause}`;
    const error = new ApiError(500, "InternalError", message, { causes: [{ message: cause }] });
    const auditAnnotations = { error: `${message}: ${notFoundText(attrs.namespace)}` };
    return { allowed: false, error, warnings: [], auditAnnotations };
  }
  if (ns.errors.length === 0 && fullyPrivileged(ns.policy))
    return allowed({ "enforce-policy": "privileged:latest" });
  if (attrs.operation === "update" && attrs.old && !isSignificantPodUpdate(attrs.object, attrs.old))
    return allowed();
  const spec = (attrs.object.spec ?? {}) as PodSpec;
  return evaluatePod(ns, attrs.object.metadata, spec, attrs, deps, true);
}

function validatePodController(attrs: Attributes, deps: AdmissionDeps): Response {
  if (attrs.subresource) return allowed();
  if (exemptNamespace(deps, attrs.namespace)) return allowed({ exempt: "namespace" });
  if (exemptUser(deps, attrs.username)) return allowed({ exempt: "user" });
  const ns = deps.namespacePolicy(attrs.namespace);
  if (!ns)
    return allowed({
      error: `failed to lookup namespace "${attrs.namespace}": ${notFoundText(attrs.namespace)}`,
    });
  if (
    ns.errors.length === 0 &&
    ns.policy.warn.level === "privileged" &&
    ns.policy.audit.level === "privileged"
  )
    return allowed();
  const pod = extractPodSpec(attrs.group, attrs.resource, attrs.object);
  if (!pod) return allowed();
  return evaluatePod(ns, pod.metadata, pod.spec, attrs, deps, false);
}

function evaluatePod(
  ns: { policy: Policy; errors: FieldError[] },
  metadata: PodMetadata,
  spec: PodSpec,
  attrs: Attributes,
  deps: AdmissionDeps,
  enforce: boolean,
): Response {
  const runtimeClass = spec.runtimeClassName;
  if (runtimeClass && deps.config.exemptions.runtimeClasses.has(runtimeClass))
    return allowed({ exempt: "runtimeClass" });
  const annotations: Record<string, string> = {};
  if (ns.errors.length > 0)
    annotations.error = `Failed to parse policy: ${aggregateText(ns.errors.map(fieldErrorText))}`;
  const { policy } = ns;
  const results = new Map<string, ReturnType<typeof aggregate>>();
  const evaluate = (lv: LevelVersion) => {
    const id = levelVersionString(lv);
    let result = results.get(id);
    if (!result) {
      result = aggregate(deps.evaluator.evaluatePod(lv, metadata, spec));
      results.set(id, result);
    }
    return result;
  };
  let error: ApiError | undefined;
  if (enforce) {
    annotations["enforce-policy"] = levelVersionString(policy.enforce);
    const result = evaluate(policy.enforce);
    if (!result.allowed) {
      const why = `violates PodSecurity "${levelVersionString(policy.enforce)}": ${forbiddenDetail(result)}`;
      error = forbidden({ group: attrs.group, resource: attrs.resource, name: attrs.name }, why);
    }
  }
  const audit = evaluate(policy.audit);
  if (!audit.allowed)
    annotations["audit-violations"] =
      `would violate PodSecurity "${levelVersionString(policy.audit)}": ${forbiddenDetail(audit)}`;
  const warnings: string[] = [];
  // A request that is refused gets no warnings on top.
  if (!error) {
    const warn = evaluate(policy.warn);
    if (!warn.allowed)
      warnings.push(
        `would violate PodSecurity "${levelVersionString(policy.warn)}": ${forbiddenDetail(warn)}`,
      );
  }
  return { allowed: !error, error, warnings, auditAnnotations: annotations };
}

/** Only what a pod update can change that matters: images, and ephemeral containers added or changed. */
export function isSignificantPodUpdate(pod: KubeObject, old: KubeObject): boolean {
  const spec = (pod.spec ?? {}) as PodSpec;
  const before = (old.spec ?? {}) as PodSpec;
  const containers = spec.containers ?? [];
  const initContainers = spec.initContainers ?? [];
  if (containers.length !== (before.containers ?? []).length) return true;
  if (initContainers.length !== (before.initContainers ?? []).length) return true;
  if (containers.some((c, i) => (c.image ?? "") !== (before.containers![i]!.image ?? ""))) return true;
  if (initContainers.some((c, i) => (c.image ?? "") !== (before.initContainers![i]!.image ?? "")))
    return true;
  for (const c of spec.ephemeralContainers ?? []) {
    const was = (before.ephemeralContainers ?? []).find((o) => o.name === c.name);
    if (!was || (was.image ?? "") !== (c.image ?? "")) return true;
  }
  return false;
}

/**
 * The warnings for a namespace whose enforce level tightens: its pods that the new level would refuse,
 * grouped by the same reasons, one pod of each controller first, at most 3,000 pods within a second.
 */
export function evaluatePodsInNamespace(
  namespace: string,
  enforce: LevelVersion,
  deps: AdmissionDeps,
): string[] {
  const deadline = deps.now() + NAMESPACE_POD_CHECK_TIMEOUT_MS;
  const pods = prioritizePods(deps.listPods(namespace), deps);
  const total = pods.length;
  const toCheck = pods.slice(0, NAMESPACE_MAX_PODS_TO_CHECK);
  let checked = toCheck.length;
  const reasons: string[] = [];
  const byReason = new Map<string, { podName: string; count: number }>();
  for (const [i, pod] of toCheck.entries()) {
    const result = aggregate(deps.evaluator.evaluatePod(enforce, pod.metadata, (pod.spec ?? {}) as PodSpec));
    if (!result.allowed) {
      const reason = forbiddenReason(result);
      const name = pod.metadata.name ?? "";
      const seen = byReason.get(reason);
      if (!seen) {
        byReason.set(reason, { podName: name, count: 1 });
        reasons.push(reason);
      } else {
        if (byteOrder(name, seen.podName) < 0) seen.podName = name;
        seen.count++;
      }
    }
    if (deps.now() >= deadline) {
      checked = i + 1;
      break;
    }
  }
  const warnings: string[] = [];
  if (checked < total)
    warnings.push(
      `new PodSecurity enforce level only checked against the first ${checked} of ${total} existing pods`,
    );
  if (reasons.length > 0)
    warnings.push(
      `existing pods in namespace "${namespace}" violate the new PodSecurity enforce level "${levelVersionString(enforce)}"`,
    );
  const decorated = reasons.map((reason) => {
    const { podName, count } = byReason.get(reason)!;
    if (count === 1) return `${podName}: ${reason}`;
    if (count === 2) return `${podName} (and 1 other pod): ${reason}`;
    return `${podName} (and ${count - 1} other pods): ${reason}`;
  });
  return [...warnings, ...decorated.sort(byteOrder)];
}

/** Pods of exempt runtime classes left out; the first pod of each controller before the others. */
function prioritizePods(pods: KubeObject[], deps: AdmissionDeps): KubeObject[] {
  const first: KubeObject[] = [];
  const rest: KubeObject[] = [];
  const controllers = new Set<string>();
  for (const pod of pods) {
    const runtimeClass = (pod.spec as PodSpec | undefined)?.runtimeClassName;
    if (runtimeClass && deps.config.exemptions.runtimeClasses.has(runtimeClass)) continue;
    const controller = (pod.metadata.ownerReferences ?? []).find((r) => r.controller === true);
    if (!controller) first.push(pod);
    else if (controllers.has(controller.uid)) rest.push(pod);
    else {
      controllers.add(controller.uid);
      first.push(pod);
    }
  }
  return [...first, ...rest];
}
