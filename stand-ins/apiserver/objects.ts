// The object lifecycle every write goes through, whether it comes from HTTP or from the server's own
// controllers (namespace bootstrap, garbage collector): create, update (main and /status), delete
// with finalizers, grace periods and propagation. HTTP concerns (parsing, negotiation) live elsewhere.
import { randomUUID } from "node:crypto";
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  forbidden,
  invalid,
  notFound,
  type StatusCause,
  type Target,
} from "./errors.ts";
import { normalizeMeta, plain, randomSuffix, sameObject, specChanged, timestamp } from "./object-meta.ts";
import type { UserInfo } from "./rbac/user.ts";
import { groupVersion, type Registry, type RequestContext, type ResourceType } from "./registry.ts";
import type { KubeObject, Store } from "./storage.ts";

export type FieldValidation = RequestContext["fieldValidation"];

export interface WriteOptions {
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  /** Set by the server's own controllers: skips the checks kube does not apply to them. */
  internal?: boolean;
  /** Who writes (HTTP requests): the write checks run for them; in-process writes are trusted. */
  user?: UserInfo;
}

export interface WriteResult {
  object: KubeObject;
  warnings: string[];
  created?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface DeleteResult {
  /** The object as it is now (being deleted) or as it was when it went. */
  object: KubeObject;
  deleted: boolean;
}

export interface Environment {
  now(): Date;
  random(): number;
  uid(): string;
}

export const defaultEnvironment: Environment = {
  now: () => new Date(),
  random: Math.random,
  uid: randomUUID,
};

/** Per-kind admission that needs the whole server (service accounts for pods). */
export type Admission = (t: ResourceType, o: KubeObject, objects: Objects) => void;

/** A user's create or update, as a write check sees it. */
export interface WriteRequest {
  operation: "create" | "update";
  object: KubeObject;
  /** The stored object an update replaces. */
  old?: KubeObject;
  user: UserInfo;
  /** The request's namespace (undefined for cluster-scoped kinds). */
  namespace?: string;
  subresource?: string;
}

/**
 * A check of a user's write that may refuse it: "storage" checks run before the kind's validation (kube's
 * policy-based RBAC storage), "admission" checks after it (kube's validating admission plugins).
 */
export type WriteCheck = (t: ResourceType, request: WriteRequest, objects: Objects) => void;

/** A write as a validating admission plugin sees it: the server's own writes too (no user then). */
export type AdmissionRequest = Omit<WriteRequest, "user"> & { user?: UserInfo; dryRun: boolean };

/**
 * A validating admission plugin (PodSecurity): runs after the write checks on every create and update,
 * whoever writes; throws to refuse, returns warnings for the client.
 */
export type ValidatingAdmission = (t: ResourceType, request: AdmissionRequest, objects: Objects) => string[];

export class Objects {
  readonly store: Store;
  readonly registry: Registry;
  readonly env: Environment;
  private readonly admissions: Admission[] = [];
  private readonly validatingAdmissions: ValidatingAdmission[] = [];
  private readonly writeChecks: Record<"storage" | "admission", WriteCheck[]> = {
    storage: [],
    admission: [],
  };

  constructor(store: Store, registry: Registry, env: Environment = defaultEnvironment) {
    this.store = store;
    this.registry = registry;
    this.env = env;
  }

  addAdmission(a: Admission): void {
    this.admissions.push(a);
  }

  addWriteCheck(stage: "storage" | "admission", check: WriteCheck): void {
    this.writeChecks[stage].push(check);
  }

  addValidatingAdmission(v: ValidatingAdmission): void {
    this.validatingAdmissions.push(v);
  }

  private runValidatingAdmissions(
    t: ResourceType,
    options: WriteOptions & { subresource?: string },
    request: Omit<WriteRequest, "user" | "subresource">,
    warnings: string[],
  ): void {
    const full = {
      ...request,
      user: options.user,
      subresource: options.subresource,
      dryRun: !!options.dryRun,
    };
    for (const v of this.validatingAdmissions) warnings.push(...v(t, full, this));
  }

  private runWriteChecks(
    stage: "storage" | "admission",
    t: ResourceType,
    options: WriteOptions & { subresource?: string },
    request: Omit<WriteRequest, "user" | "subresource">,
  ): void {
    if (!options.user) return;
    for (const check of this.writeChecks[stage])
      check(t, { ...request, user: options.user, subresource: options.subresource }, this);
  }

  target(t: ResourceType, name?: string): Target {
    return { group: t.group, resource: t.resource, name };
  }

  /** Reads a stored object in the shape of the requested version, defaults applied. */
  view(t: ResourceType, stored: KubeObject): KubeObject {
    let o: KubeObject;
    if (t.fromStorage) o = t.fromStorage(stored);
    else if (stored.apiVersion !== groupVersion(t)) o = { ...stored, apiVersion: groupVersion(t) };
    else o = stored;
    return o;
  }

  private toStorage(t: ResourceType, o: KubeObject): KubeObject {
    return t.toStorage ? t.toStorage(o) : o;
  }

  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const stored = this.store.collection(t.collection).get(t.namespaced ? namespace : undefined, name);
    if (!stored) throw notFound(this.target(t, name));
    return this.view(t, stored);
  }

  find(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const stored = this.store.collection(t.collection).get(t.namespaced ? namespace : undefined, name);
    return stored && this.view(t, stored);
  }

  private ctx(options: WriteOptions): RequestContext {
    return { fieldValidation: options.fieldValidation ?? "Warn", now: this.env.now() };
  }

  /** Unknown fields: pruned always; Strict rejects them, Warn reports them. */
  private prune(t: ResourceType, o: KubeObject, fieldValidation: FieldValidation): string[] {
    const unknown = t.prune(o);
    if (unknown.length === 0 || fieldValidation === "Ignore") return [];
    const messages = unknown.map((p) => `unknown field "${p}"`);
    if (fieldValidation === "Strict") {
      throw badRequest(
        `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: strict decoding error: ${messages.join(", ")}`,
      );
    }
    return messages;
  }

  private checkKind(t: ResourceType, o: KubeObject): void {
    if (o === null || typeof o !== "object" || Array.isArray(o))
      throw badRequest("the body of the request must be a JSON object");
    if (o.kind !== undefined && o.kind !== t.kind) {
      throw badRequest(
        `the kind of the object (${String(o.kind)}) does not match the expected kind (${t.kind})`,
      );
    }
    if (o.apiVersion !== undefined && o.apiVersion !== groupVersion(t)) {
      throw badRequest(
        `the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${groupVersion(t)})`,
      );
    }
    if (o.metadata !== undefined && (o.metadata === null || typeof o.metadata !== "object"))
      throw badRequest("metadata must be an object");
  }

  private checkNamespace(
    t: ResourceType,
    namespace: string | undefined,
    o: KubeObject,
    creating: boolean,
  ): void {
    if (!t.namespaced) {
      delete o.metadata.namespace;
      return;
    }
    if (o.metadata.namespace && o.metadata.namespace !== namespace) {
      throw badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
    o.metadata.namespace = namespace;
    if (!creating) return;
    const ns = this.store.collection("/namespaces").get(undefined, namespace!);
    if (!ns) throw notFound({ group: "", resource: "namespaces", name: namespace });
    if (ns.metadata.deletionTimestamp) {
      const error = forbidden(
        this.target(t, o.metadata.name),
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
      // NamespaceLifecycle's cause: controllers recognise it and stop creating (no FailedCreate).
      error.details!.causes = [
        {
          reason: "NamespaceTerminating",
          message: `namespace ${namespace} is being terminated`,
          field: "metadata.namespace",
        },
      ];
      throw error;
    }
  }

  private validate(t: ResourceType, o: KubeObject, old: KubeObject | undefined): void {
    const causes: StatusCause[] = t.validate(o, old);
    if (old?.metadata.deletionTimestamp) {
      const before = new Set(old.metadata.finalizers ?? []);
      if ((o.metadata.finalizers ?? []).some((f) => !before.has(f))) {
        causes.push({
          reason: "FieldValueForbidden",
          message: "Forbidden: no new finalizers can be added if the object is being deleted",
          field: "metadata.finalizers",
        });
      }
    }
    if (causes.length > 0) throw invalid(t.group, t.kind, o.metadata.name ?? "", causes);
  }

  create(
    t: ResourceType,
    namespace: string | undefined,
    body: KubeObject,
    options: WriteOptions = {},
  ): WriteResult {
    this.checkKind(t, body);
    const ctx = this.ctx(options);
    const o = plain(body);
    o.apiVersion = groupVersion(t);
    o.kind = t.kind;
    o.metadata ??= {};
    this.checkNamespace(t, namespace, o, true);
    const warnings = this.prune(t, o, ctx.fieldValidation);
    const m = o.metadata;
    if (m.resourceVersion && !options.internal) {
      // kube's storage refuses this with an internal error; clients must clear it before creating.
      throw new ApiError(
        500,
        "InternalError",
        "Internal error occurred: resourceVersion should not be set on objects to be created",
      );
    }
    if (!m.name && m.generateName) m.name = `${m.generateName}${randomSuffix(this.env.random)}`;
    if (!m.name) {
      throw invalid(t.group, t.kind, "", [
        {
          reason: "FieldValueRequired",
          message: "Required value: name or generateName is required",
          field: "metadata.name",
        },
      ]);
    }
    m.uid = this.env.uid();
    m.creationTimestamp = timestamp(ctx.now);
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.managedFields;
    delete m.selfLink;
    if (t.hasGeneration) m.generation = 1;
    else delete m.generation;
    if (t.statusSubresource) delete o.status;
    t.prepareCreate?.(o, ctx);
    t.defaults(o);
    for (const a of this.admissions) a(t, o, this);
    normalizeMeta(o);
    const write = { operation: "create" as const, object: o, namespace: m.namespace };
    this.runWriteChecks("storage", t, options, write);
    this.validate(t, o, undefined);
    this.runWriteChecks("admission", t, options, write);
    this.runValidatingAdmissions(t, options, write, warnings);
    const c = this.store.collection(t.collection);
    if (c.get(m.namespace, m.name)) throw alreadyExists(this.target(t, m.name));
    if (t.crd && this.crdTerminating(t)) {
      throw new ApiError(
        405,
        "MethodNotAllowed",
        `create not allowed while custom resource definition is terminating`,
        {
          group: t.group,
          kind: t.resource,
        },
      );
    }
    if (options.dryRun) return { object: o, warnings, created: true };
    const stored = this.store.create(t.collection, this.toStorage(t, o));
    return { object: this.view(t, stored), warnings, created: true };
  }

  /**
   * PUT semantics. `subresource` "status" takes only the status from `body`; the main endpoint keeps
   * the stored status when the kind has a status subresource.
   */
  update(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    body: KubeObject,
    options: WriteOptions & { subresource?: "status" } = {},
  ): WriteResult {
    this.checkKind(t, body);
    const incoming = plain(body);
    incoming.metadata ??= {};
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    incoming.metadata.name = name;
    const old = this.find(t, namespace, name);
    if (!old) {
      if (t.allowCreateOnUpdate && !options.subresource) return this.create(t, namespace, incoming, options);
      throw notFound(this.target(t, name));
    }
    this.checkNamespace(t, namespace, incoming, false);
    const ctx = this.ctx(options);
    const warnings = this.prune(t, incoming, ctx.fieldValidation);
    if (incoming.metadata.uid && incoming.metadata.uid !== old.metadata.uid) {
      throw conflict(
        this.target(t, name),
        `Precondition failed: UID in precondition: ${incoming.metadata.uid}, UID in object meta: ${old.metadata.uid}`,
      );
    }
    const wantedRV = incoming.metadata.resourceVersion;
    if (!wantedRV && !t.allowUnconditionalUpdate && !options.internal) {
      throw invalid(t.group, t.kind, name, [
        {
          reason: "FieldValueInvalid",
          message: "Invalid value: 0x0: must be specified for an update",
          field: "metadata.resourceVersion",
        },
      ]);
    }
    if (wantedRV && wantedRV !== old.metadata.resourceVersion) {
      throw conflict(
        this.target(t, name),
        "the object has been modified; please apply your changes to the latest version and try again",
      );
    }

    let o: KubeObject;
    if (options.subresource === "status") {
      o = plain(old);
      if (incoming.status === undefined) delete o.status;
      else o.status = incoming.status;
    } else {
      o = incoming;
      o.apiVersion = groupVersion(t);
      o.kind = t.kind;
      if (t.statusSubresource) {
        if (old.status === undefined) delete o.status;
        else o.status = plain(old.status);
      }
      const m = o.metadata;
      const om = old.metadata;
      m.uid = om.uid;
      m.creationTimestamp = om.creationTimestamp;
      m.namespace = om.namespace;
      if (om.deletionTimestamp) m.deletionTimestamp = om.deletionTimestamp;
      else delete m.deletionTimestamp;
      if (om.deletionGracePeriodSeconds !== undefined)
        m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
      else delete m.deletionGracePeriodSeconds;
      if (om.generation !== undefined) m.generation = om.generation;
      else delete m.generation;
      if (om.generateName !== undefined && m.generateName === undefined) m.generateName = om.generateName;
      delete m.managedFields;
      delete m.selfLink;
      t.prepareUpdate?.(o, old, ctx);
    }
    o.metadata.resourceVersion = old.metadata.resourceVersion;
    t.defaults(o);
    normalizeMeta(o);
    const write = { operation: "update" as const, object: o, old, namespace: old.metadata.namespace };
    this.runWriteChecks("storage", t, options, write);
    this.validate(t, o, old);
    this.runWriteChecks("admission", t, options, write);
    this.runValidatingAdmissions(t, options, write, warnings);
    if (t.hasGeneration && specChanged(o, old, !t.statusSubresource))
      o.metadata.generation = (old.metadata.generation ?? 0) + 1;
    const normalized = plain(o);
    if (sameObject(normalized, old)) return { object: old, warnings };
    if (options.dryRun) return { object: normalized, warnings };
    const m = normalized.metadata;
    const namespaceFinalizers = (normalized.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [];
    const waitsForContent = t.group === "" && t.resource === "namespaces" && namespaceFinalizers.length > 0;
    if (
      m.deletionTimestamp &&
      (m.finalizers ?? []).length === 0 &&
      (m.deletionGracePeriodSeconds ?? 0) === 0 &&
      !waitsForContent
    ) {
      const last = this.store.delete(t.collection, m.namespace, name);
      return { object: this.view(t, last ?? normalized), warnings };
    }
    const stored = this.store.update(t.collection, this.toStorage(t, normalized));
    return { object: this.view(t, stored), warnings };
  }

  delete(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions = {},
  ): DeleteResult {
    const old = this.find(t, namespace, name);
    if (!old) throw notFound(this.target(t, name));
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw conflict(
        this.target(t, name),
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`,
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(
        this.target(t, name),
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    }
    const now = this.env.now();
    const o = plain(old);
    const m = o.metadata;
    const finalizers = new Set(m.finalizers ?? []);
    for (const f of t.deleteFinalizers ?? []) finalizers.add(f);
    const policy = options.propagationPolicy;
    if (policy === "Orphan") {
      finalizers.add("orphan");
      finalizers.delete("foregroundDeletion");
    } else if (policy === "Foreground") {
      finalizers.add("foregroundDeletion");
      finalizers.delete("orphan");
    } else if (policy === "Background") {
      finalizers.delete("orphan");
      finalizers.delete("foregroundDeletion");
    }
    // An object already being deleted only changes propagation when it still waits for finalizers.
    if (m.deletionTimestamp && (m.finalizers ?? []).length > 0 && policy === undefined) {
      for (const f of m.finalizers ?? []) finalizers.add(f);
    }
    let grace = this.gracePeriod(t, o, options.gracePeriodSeconds);
    if (m.deletionTimestamp && m.deletionGracePeriodSeconds !== undefined) {
      grace = Math.min(grace, m.deletionGracePeriodSeconds);
    }
    const namespaceLifecycle = t.group === "" && t.resource === "namespaces";
    if (finalizers.size === 0 && grace === 0 && !namespaceLifecycle) {
      if (options.dryRun) return { object: old, deleted: true };
      const last = this.store.delete(t.collection, m.namespace, name)!;
      return { object: this.view(t, last), deleted: true };
    }
    const unchanged =
      m.deletionTimestamp !== undefined &&
      m.deletionGracePeriodSeconds === grace &&
      [...finalizers].join(",") === (m.finalizers ?? []).join(",");
    if (unchanged || options.dryRun) return { object: old, deleted: false };
    if (!m.deletionTimestamp || grace < (m.deletionGracePeriodSeconds ?? Number.POSITIVE_INFINITY)) {
      m.deletionTimestamp = timestamp(new Date(now.getTime() + grace * 1000));
    }
    m.deletionGracePeriodSeconds = grace;
    if (finalizers.size > 0) m.finalizers = [...finalizers];
    else delete m.finalizers;
    if (namespaceLifecycle) o.status = { ...(o.status as object), phase: "Terminating" };
    const stored = this.store.update(t.collection, this.toStorage(t, o));
    return { object: this.view(t, stored), deleted: false };
  }

  private crdTerminating(t: ResourceType): boolean {
    const crd = this.store
      .collection("apiextensions.k8s.io/customresourcedefinitions")
      .get(undefined, `${t.resource}.${t.group}`);
    return crd?.metadata.deletionTimestamp !== undefined;
  }

  /** Pods bound to a node and still running wait for the kubelet; everything else goes at once. */
  private gracePeriod(t: ResourceType, o: KubeObject, requested: number | undefined): number {
    if (!(t.group === "" && t.resource === "pods")) return 0;
    const spec = (o.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
    const phase = (o.status as { phase?: string } | undefined)?.phase;
    if (!spec.nodeName || phase === "Succeeded" || phase === "Failed") return 0;
    const grace = requested ?? spec.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, grace);
  }

  /** Lets the server's controllers write without HTTP (always Ignore unknown fields: they write what they read). */
  internalUpdate(t: ResourceType, o: KubeObject, subresource?: "status"): KubeObject | undefined {
    try {
      return this.update(t, o.metadata.namespace, o.metadata.name!, o, {
        fieldValidation: "Ignore",
        subresource,
        internal: true,
      }).object;
    } catch (error) {
      if (error instanceof ApiError && (error.code === 404 || error.code === 409)) return undefined;
      throw error;
    }
  }
}
