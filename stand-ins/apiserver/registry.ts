// The resource registry: what the server serves (built-in kinds and every CRD's resources), keyed by
// group/version/resource, each with the strategy hooks the generic REST handlers call.
import type { StatusCause } from "./errors.ts";
import type { KubeObject } from "./storage.ts";

export interface RequestContext {
  /** fieldValidation=Strict|Warn|Ignore as requested (kube's default for most clients is Warn). */
  fieldValidation: "Strict" | "Warn" | "Ignore";
  now: Date;
}

export interface ResourceType {
  group: string;
  version: string;
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Subresources served, e.g. "status", "log", "token", "eviction", "finalize". */
  subresources: string[];
  /** Where its objects are stored: several versions of a kind share one collection. */
  collection: string;
  /** Only status changes through /status; the main endpoint keeps the stored status. */
  statusSubresource: boolean;
  /** metadata.generation is maintained (bumped on spec changes). */
  hasGeneration: boolean;
  /** PUT creates a missing object (kube allows this for a few kinds such as Leases and Events). */
  allowCreateOnUpdate: boolean;
  /** PUT without metadata.resourceVersion is allowed (not for custom resources and CRDs). */
  allowUnconditionalUpdate: boolean;
  /** Built-in kinds accept strategic merge patch; custom resources do not. */
  strategicMerge: boolean;
  /** Field selectors this resource accepts, each read from the object. */
  selectableFields: Record<string, (o: KubeObject) => string | undefined>;
  /** Removes unknown fields in place and returns their paths. */
  prune(o: KubeObject): string[];
  /** Fills defaults in place (on create, update and reads from storage). */
  defaults(o: KubeObject): void;
  /** Validation errors (422). `old` is set on updates. */
  validate(o: KubeObject, old: KubeObject | undefined): StatusCause[];
  /** Kind-specific changes before a create is stored (e.g. a pod's status, a secret's stringData). */
  prepareCreate?(o: KubeObject, ctx: RequestContext): void;
  /** Kind-specific changes before an update is stored. */
  prepareUpdate?(o: KubeObject, old: KubeObject, ctx: RequestContext): void;
  /** Converts a stored object to this version's shape (the default only rewrites apiVersion). */
  fromStorage?(o: KubeObject): KubeObject;
  toStorage?(o: KubeObject): KubeObject;
  /** The CRD this resource comes from, for custom resources. */
  crd?: KubeObject;
  /** True for the version objects are stored in (preferred version in discovery). */
  storageVersion: boolean;
  /** Finalizers the kind's delete adds, for the server's own cleanup (a CRD's custom resources). */
  deleteFinalizers?: string[];
}

export function groupVersion(t: { group: string; version: string }): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

export class Registry {
  private readonly types = new Map<string, ResourceType>();
  private readonly listeners = new Set<() => void>();

  private static id(group: string, version: string, resource: string): string {
    return `${group}/${version}/${resource}`;
  }

  add(t: ResourceType): void {
    this.types.set(Registry.id(t.group, t.version, t.resource), t);
    this.changed();
  }

  remove(group: string, version: string, resource: string): void {
    this.types.delete(Registry.id(group, version, resource));
    this.changed();
  }

  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.types.get(Registry.id(group, version, resource));
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  /** The served version objects of a collection are usually read through (its storage version). */
  forCollection(collection: string): ResourceType | undefined {
    let found: ResourceType | undefined;
    for (const t of this.types.values()) {
      if (t.collection !== collection) continue;
      if (t.storageVersion) return t;
      found ??= t;
    }
    return found;
  }

  /** The resource for an apiVersion + kind (owner references name their owner this way). */
  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    for (const t of this.types.values()) if (groupVersion(t) === apiVersion && t.kind === kind) return t;
    return undefined;
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
