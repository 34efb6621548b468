// The PodSecurity admission plugin in the server's write path: every create and update of namespaces,
// pods and pod-template kinds, the server's own controllers' included, dry runs too. Namespace labels
// are parsed once per namespace resourceVersion. What kube would write as audit annotations is kept in a
// bounded in-memory log, since this server has no audit log.
import { performance } from "node:perf_hooks";
import type { ApiError } from "../errors.ts";
import type { AdmissionRequest, Objects, ValidatingAdmission } from "../objects.ts";
import type { ResourceType } from "../registry.ts";
import { type Attributes, type Response, validate } from "./admission.ts";
import { type PodSecurityConfiguration, type ResolvedConfiguration, resolveConfiguration } from "./config.ts";
import { type Evaluator, newEvaluator } from "./evaluator.ts";
import { AUDIT_ANNOTATION_PREFIX, type FieldError, type Policy, policyToEvaluate } from "./levels.ts";
import { hasPodSpec } from "./pod-templates.ts";

export interface PodSecurityAuditRecord {
  time: string;
  /** undefined for the server's own writes. */
  username?: string;
  operation: "create" | "update";
  group: string;
  resource: string;
  subresource?: string;
  namespace: string;
  name: string;
  dryRun: boolean;
  /** As kube adds them to the audit event: `pod-security.kubernetes.io/enforce-policy` … */
  annotations: Record<string, string>;
}

const AUDIT_RECORDS_KEPT = 1000;

interface CachedPolicy {
  resourceVersion: string | undefined;
  value: { policy: Policy; errors: FieldError[] };
}

export class PodSecurityAdmission {
  readonly config: ResolvedConfiguration;
  private readonly evaluator: Evaluator = newEvaluator();
  private readonly objects: Objects;
  private readonly cache = new Map<string, CachedPolicy>();
  private readonly records: PodSecurityAuditRecord[] = [];

  /** Throws when the configuration is invalid, as kube-apiserver refuses to start. */
  constructor(objects: Objects, config?: PodSecurityConfiguration) {
    this.objects = objects;
    this.config = resolveConfiguration(config);
  }

  /** The audit annotations of the latest evaluated writes, oldest first. */
  auditRecords(): readonly PodSecurityAuditRecord[] {
    return this.records;
  }

  readonly admission: ValidatingAdmission = (t, request) => {
    const applicable =
      t.group === "" && (t.resource === "pods" || t.resource === "namespaces")
        ? true
        : hasPodSpec(t.group, t.resource);
    if (!applicable) return [];
    const attrs = this.attributes(t, request);
    const response = validate(attrs, {
      config: this.config,
      evaluator: this.evaluator,
      namespacePolicy: (name) => this.namespacePolicy(name),
      listPods: (namespace) => this.objects.store.collection("/pods").list(namespace),
      now: () => performance.now(),
    });
    this.record(attrs, request.dryRun, response);
    if (!response.allowed) throw response.error as ApiError;
    return response.warnings;
  };

  private attributes(t: ResourceType, request: AdmissionRequest): Attributes {
    const name = request.object.metadata.name ?? "";
    const isNamespace = t.group === "" && t.resource === "namespaces";
    return {
      operation: request.operation,
      group: t.group,
      resource: t.resource,
      subresource: request.subresource,
      // kube-apiserver gives a Namespace's admission its own name as the request namespace.
      namespace: isNamespace ? name : (request.namespace ?? ""),
      name,
      object: request.object,
      old: request.old,
      username: request.user?.username,
    };
  }

  private namespacePolicy(name: string): CachedPolicy["value"] | undefined {
    const ns = this.objects.store.collection("/namespaces").get(undefined, name);
    if (!ns) {
      this.cache.delete(name);
      return undefined;
    }
    const cached = this.cache.get(name);
    if (cached && cached.resourceVersion === ns.metadata.resourceVersion) return cached.value;
    const value = policyToEvaluate(ns.metadata.labels, this.config.defaults);
    this.cache.set(name, { resourceVersion: ns.metadata.resourceVersion, value });
    return value;
  }

  private record(attrs: Attributes, dryRun: boolean, response: Response): void {
    const entries = Object.entries(response.auditAnnotations);
    if (entries.length === 0) return;
    this.records.push({
      time: this.objects.env.now().toISOString(),
      ...(attrs.username !== undefined && { username: attrs.username }),
      operation: attrs.operation,
      group: attrs.group,
      resource: attrs.resource,
      ...(attrs.subresource && { subresource: attrs.subresource }),
      namespace: attrs.namespace,
      name: attrs.name,
      dryRun,
      annotations: Object.fromEntries(entries.map(([k, v]) => [AUDIT_ANNOTATION_PREFIX + k, v])),
    });
    if (this.records.length > AUDIT_RECORDS_KEPT)
      this.records.splice(0, this.records.length - AUDIT_RECORDS_KEPT);
  }
}
