// Objects of one collection without a controller reference, by namespace: the candidates a controller
// may adopt. Kept from store events, so a sync looks at its own dependents plus the orphans of its
// namespace — never at every object.
import type { KubeObject, Store, StoredEvent } from "../storage.ts";
import { controllerRef } from "./claims.ts";

export class OrphanIndex {
  private readonly store: Store;
  private readonly collection: string;
  private readonly byNamespace = new Map<string, Set<string>>();
  private stopListening: () => void = () => {};

  constructor(store: Store, collection: string) {
    this.store = store;
    this.collection = collection;
  }

  start(): void {
    for (const o of this.store.collection(this.collection).list()) this.put(o);
    this.stopListening = this.store.listen((c, e) => {
      if (c.name === this.collection) this.observe(e);
    });
  }

  stop(): void {
    this.stopListening();
  }

  orphans(namespace: string): KubeObject[] {
    const c = this.store.collection(this.collection);
    const out: KubeObject[] = [];
    for (const name of this.byNamespace.get(namespace) ?? []) {
      const o = c.get(namespace, name);
      if (o) out.push(o);
    }
    return out;
  }

  private observe(e: StoredEvent): void {
    if (e.previous) this.drop(e.previous);
    if (e.type !== "DELETED") this.put(e.object);
  }

  private put(o: KubeObject): void {
    if (controllerRef(o)) return;
    const ns = o.metadata.namespace ?? "";
    let set = this.byNamespace.get(ns);
    if (!set) {
      set = new Set();
      this.byNamespace.set(ns, set);
    }
    set.add(o.metadata.name!);
  }

  private drop(o: KubeObject): void {
    const ns = o.metadata.namespace ?? "";
    const set = this.byNamespace.get(ns);
    set?.delete(o.metadata.name!);
    if (set?.size === 0) this.byNamespace.delete(ns);
  }
}

/** The objects of `collection` whose controller reference names `uid` (from the store's owner index). */
export function controlledBy(store: Store, collection: string, uid: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const key of store.dependents.get(uid) ?? []) {
    const [c, namespace, name] = key.split("|") as [string, string, string];
    if (c !== collection) continue;
    const o = store.collection(c).get(namespace || undefined, name);
    if (o && controllerRef(o)?.uid === uid) out.push(o);
  }
  return out;
}
