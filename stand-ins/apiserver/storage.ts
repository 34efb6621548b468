// In-memory storage: one collection per stored resource, a global resourceVersion counter, and a
// bounded per-collection event history that watches replay from. Stored objects are never mutated
// after they are written (callers clone before changing), so readers and watchers share them freely.
// Watch fan-out is O(watchers of that collection) per write, never O(objects).

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
};

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  [key: string]: unknown;
}

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoredEvent {
  type: EventType;
  object: KubeObject;
  /** The object before this change (MODIFIED and DELETED). */
  previous?: KubeObject;
  rv: number;
}

export interface Watcher {
  /** Only this namespace, when set. */
  namespace?: string;
  matches(object: KubeObject): boolean;
  send(type: EventType, object: KubeObject): void;
  /** The collection went away (its CRD was deleted): end the watch. */
  close?(): void;
}

export type StoreListener = (collection: Collection, event: StoredEvent) => void;

function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

export class Collection {
  readonly name: string;
  private readonly objects = new Map<string, KubeObject>();
  private readonly byNamespace = new Map<string, Set<string>>();
  private history: StoredEvent[] = [];
  private readonly historySize: number;
  /** The resourceVersion of the newest event dropped from history: watches older than it get 410. */
  compactedRV = 0;
  readonly watchers = new Set<Watcher>();

  // A new collection has lost nothing: every event it ever had is in its history (compactedRV 0) —
  // unless one of the same name was dropped before: its watchers must list again.
  constructor(name: string, historySize: number, compactedRV = 0) {
    this.name = name;
    this.historySize = historySize;
    this.compactedRV = compactedRV;
  }

  get size(): number {
    return this.objects.size;
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(key(namespace, name));
  }

  /** Objects in key order (namespace/name), as kube lists them. */
  list(namespace?: string): KubeObject[] {
    let keys: string[];
    if (namespace !== undefined) keys = [...(this.byNamespace.get(namespace) ?? [])];
    else keys = [...this.objects.keys()];
    keys.sort();
    return keys.map((k) => this.objects.get(k)!);
  }

  namespaces(): string[] {
    return [...this.byNamespace.keys()];
  }

  put(object: KubeObject): void {
    const k = key(object.metadata.namespace, object.metadata.name!);
    this.objects.set(k, object);
    const ns = object.metadata.namespace ?? "";
    let set = this.byNamespace.get(ns);
    if (!set) {
      set = new Set();
      this.byNamespace.set(ns, set);
    }
    set.add(k);
  }

  remove(namespace: string | undefined, name: string): void {
    const k = key(namespace, name);
    this.objects.delete(k);
    const set = this.byNamespace.get(namespace ?? "");
    set?.delete(k);
    if (set?.size === 0) this.byNamespace.delete(namespace ?? "");
  }

  record(event: StoredEvent): void {
    this.history.push(event);
    if (this.history.length > 2 * this.historySize) {
      const dropped = this.history.splice(0, this.history.length - this.historySize);
      this.compactedRV = dropped[dropped.length - 1]!.rv;
    }
  }

  /** Events after `rv`, or undefined when some of them were already dropped. */
  eventsSince(rv: number): StoredEvent[] | undefined {
    if (rv < this.compactedRV) return undefined;
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  /** Forget everything (a CRD was deleted); open watches are closed by the caller. */
  clear(): void {
    this.objects.clear();
    this.byNamespace.clear();
    this.history = [];
  }
}

export interface StoreOptions {
  /** Watch events kept per collection; a watch from an older resourceVersion gets 410 Gone. */
  historySize?: number;
}

export class Store {
  private rv = 0;
  private readonly collections = new Map<string, Collection>();
  private readonly listeners = new Set<StoreListener>();
  private readonly historySize: number;
  private readonly droppedAt = new Map<string, number>();
  /** uid → where the object lives, for owner lookups by the garbage collector. */
  readonly byUid = new Map<string, { collection: string; namespace?: string; name: string }>();
  /** owner uid → dependents' `collection|namespace|name`. */
  readonly dependents = new Map<string, Set<string>>();

  constructor(options: StoreOptions = {}) {
    this.historySize = options.historySize ?? 10_000;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** Takes the next resourceVersion without writing (for bookmarks and dry runs nothing is taken). */
  private nextRV(): number {
    this.rv += 1;
    return this.rv;
  }

  collection(name: string): Collection {
    let c = this.collections.get(name);
    if (!c) {
      c = new Collection(name, this.historySize, this.droppedAt.get(name) ?? 0);
      this.collections.set(name, c);
    }
    return c;
  }

  hasCollection(name: string): boolean {
    return this.collections.has(name);
  }

  dropCollection(name: string): void {
    const c = this.collections.get(name);
    if (!c) return;
    for (const o of c.list()) this.unindex(name, o);
    for (const w of [...c.watchers]) w.close?.();
    c.watchers.clear();
    c.clear();
    this.collections.delete(name);
    this.droppedAt.set(name, this.rv);
  }

  allCollections(): Collection[] {
    return [...this.collections.values()];
  }

  listen(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes a new object; metadata.resourceVersion is set here. */
  create(collectionName: string, object: KubeObject): KubeObject {
    const c = this.collection(collectionName);
    const rv = this.nextRV();
    const stored = withRV(object, rv);
    c.put(stored);
    this.index(collectionName, stored);
    this.emit(c, { type: "ADDED", object: stored, rv });
    return stored;
  }

  update(collectionName: string, object: KubeObject): KubeObject {
    const c = this.collection(collectionName);
    const previous = c.get(object.metadata.namespace, object.metadata.name!);
    const rv = this.nextRV();
    const stored = withRV(object, rv);
    c.put(stored);
    if (previous) this.unindex(collectionName, previous);
    this.index(collectionName, stored);
    this.emit(
      c,
      previous ? { type: "MODIFIED", object: stored, previous, rv } : { type: "ADDED", object: stored, rv },
    );
    return stored;
  }

  delete(collectionName: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const c = this.collection(collectionName);
    const previous = c.get(namespace, name);
    if (!previous) return undefined;
    const rv = this.nextRV();
    const last = withRV(previous, rv);
    c.remove(namespace, name);
    this.unindex(collectionName, previous);
    this.emit(c, { type: "DELETED", object: last, previous, rv });
    return last;
  }

  private index(collectionName: string, o: KubeObject): void {
    const m = o.metadata;
    if (m.uid) this.byUid.set(m.uid, { collection: collectionName, namespace: m.namespace, name: m.name! });
    for (const ref of m.ownerReferences ?? []) {
      let set = this.dependents.get(ref.uid);
      if (!set) {
        set = new Set();
        this.dependents.set(ref.uid, set);
      }
      set.add(`${collectionName}|${m.namespace ?? ""}|${m.name}`);
    }
  }

  private unindex(collectionName: string, o: KubeObject): void {
    const m = o.metadata;
    if (m.uid) this.byUid.delete(m.uid);
    for (const ref of m.ownerReferences ?? []) {
      const set = this.dependents.get(ref.uid);
      set?.delete(`${collectionName}|${m.namespace ?? ""}|${m.name}`);
      if (set?.size === 0) this.dependents.delete(ref.uid);
    }
  }

  private emit(c: Collection, event: StoredEvent): void {
    c.record(event);
    for (const w of [...c.watchers]) deliver(w, event);
    for (const l of [...this.listeners]) l(c, event);
  }
}

/** Sends one stored event to one watcher, turning moves in or out of its selection into ADDED/DELETED. */
export function deliver(w: Watcher, event: StoredEvent): void {
  const inNamespace = (o: KubeObject | undefined) =>
    o !== undefined && (w.namespace === undefined || o.metadata.namespace === w.namespace);
  if (event.type === "MODIFIED") {
    const before = inNamespace(event.previous) && w.matches(event.previous!);
    const after = inNamespace(event.object) && w.matches(event.object);
    if (before && after) w.send("MODIFIED", event.object);
    else if (after) w.send("ADDED", event.object);
    else if (before) w.send("DELETED", event.object);
    return;
  }
  if (inNamespace(event.object) && w.matches(event.object)) w.send(event.type, event.object);
}

function withRV(object: KubeObject, rv: number): KubeObject {
  return { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
}
