// Pods by namespace and label pair, kept from store events: a selector with matchLabels looks only at
// the pods carrying its rarest pair instead of every pod of the namespace.
import type { KubeObject, Store } from "../storage.ts";
import { type LabelSelector, selectorMatches } from "./label-selector.ts";

export class LabelIndex {
  private readonly store: Store;
  private readonly collection: string;
  private readonly byPair = new Map<string, Set<string>>();
  private stopListening: () => void = () => {};

  constructor(store: Store, collection: string) {
    this.store = store;
    this.collection = collection;
  }

  start(): void {
    for (const o of this.store.collection(this.collection).list()) this.put(o);
    this.stopListening = this.store.listen((c, e) => {
      if (c.name !== this.collection) return;
      if (e.previous) this.drop(e.previous);
      if (e.type !== "DELETED") this.put(e.object);
    });
  }

  stop(): void {
    this.stopListening();
  }

  /** The objects of `namespace` the selector matches (nil selects nothing, {} everything). */
  select(namespace: string, selector: LabelSelector | null | undefined): KubeObject[] {
    if (!selector) return [];
    const c = this.store.collection(this.collection);
    let candidates: Iterable<KubeObject> | undefined;
    let size = Number.POSITIVE_INFINITY;
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
      const names = this.byPair.get(pairKey(namespace, k, v));
      if (!names) return [];
      if (names.size < size) {
        size = names.size;
        candidates = [...names]
          .map((n) => c.get(namespace, n))
          .filter((o): o is KubeObject => o !== undefined);
      }
    }
    return [...(candidates ?? c.list(namespace))].filter((o) => selectorMatches(selector, o.metadata.labels));
  }

  private put(o: KubeObject): void {
    for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
      const key = pairKey(o.metadata.namespace ?? "", k, v);
      let set = this.byPair.get(key);
      if (!set) {
        set = new Set();
        this.byPair.set(key, set);
      }
      set.add(o.metadata.name!);
    }
  }

  private drop(o: KubeObject): void {
    for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
      const key = pairKey(o.metadata.namespace ?? "", k, v);
      const set = this.byPair.get(key);
      set?.delete(o.metadata.name!);
      if (set?.size === 0) this.byPair.delete(key);
    }
  }
}

const pairKey = (namespace: string, key: string, value: string) => `${namespace}\u0000${key}\u0000${value}`;
