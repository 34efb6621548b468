// The garbage collector: dependents go when their owners go (background), owners wait for their
// dependents under foreground deletion, orphaning strips owner references. Like kube's GC it works
// asynchronously, after the write that triggered it has been answered.
import type { Logger } from "../../lib/log.ts";
import { coalesce } from "./coalesce.ts";
import { ApiError } from "./errors.ts";
import type { Objects } from "./objects.ts";
import type { KubeObject, StoredEvent } from "./storage.ts";

export class GarbageCollector {
  private readonly objects: Objects;
  private readonly log: Logger | undefined;
  private readonly enqueue = coalesce<string>(setImmediate, (item) => this.handle(item));
  private stopListening: () => void = () => {};

  constructor(objects: Objects, log?: Logger) {
    this.objects = objects;
    this.log = log;
  }

  start(): void {
    this.stopListening = this.objects.store.listen((_c, e) => this.observe(e));
  }

  stop(): void {
    this.stopListening();
  }

  private observe(e: StoredEvent): void {
    const m = e.object.metadata;
    if (e.type === "DELETED") {
      if (m.uid) this.enqueue(`gone|${m.uid}`);
      // An owner under foreground deletion may be waiting for this dependent.
      for (const ref of m.ownerReferences ?? []) this.enqueue(`owner|${ref.uid}`);
      return;
    }
    if (
      m.deletionTimestamp &&
      m.uid &&
      (m.finalizers ?? []).some((f) => f === "foregroundDeletion" || f === "orphan")
    ) {
      this.enqueue(`owner|${m.uid}`);
    }
    if ((m.ownerReferences ?? []).length > 0 && m.uid) this.enqueue(`dangling|${m.uid}`);
  }

  private handle(item: string): void {
    const [kind, uid] = item.split("|") as [string, string];
    try {
      if (kind === "gone") this.ownerGone(uid);
      else if (kind === "owner") this.ownerDeleting(uid);
      else this.checkDangling(uid);
    } catch (error) {
      // A dependent that changed or went meanwhile is handled by the event that changed it; anything
      // else is a bug to see in the log, not a reason to take the server down.
      if (!(error instanceof ApiError)) this.log?.error({ err: error, item }, "garbage collector failed");
    }
  }

  private lookup(key: string): { object: KubeObject; collection: string } | undefined {
    const [collection, namespace, name] = key.split("|") as [string, string, string];
    const o = this.objects.store.collection(collection).get(namespace || undefined, name);
    return o && { object: o, collection };
  }

  private typeOf(collection: string) {
    return this.objects.registry.forCollection(collection);
  }

  private alive(uid: string): boolean {
    return this.objects.store.byUid.has(uid);
  }

  private removeOwner(collection: string, o: KubeObject, ownerUid: string): void {
    const t = this.typeOf(collection);
    if (!t) return;
    const refs = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
    const next = { ...o, metadata: { ...o.metadata, ownerReferences: refs.length > 0 ? refs : undefined } };
    this.objects.internalUpdate(t, this.objects.view(t, next));
  }

  private deleteDependent(collection: string, o: KubeObject, policy: "Background" | "Foreground"): void {
    const t = this.typeOf(collection);
    if (!t || o.metadata.deletionTimestamp) return;
    this.objects.delete(t, o.metadata.namespace, o.metadata.name!, {
      propagationPolicy: policy,
      preconditions: { uid: o.metadata.uid },
    });
  }

  /** The owner is gone: dependents with no other live owner are deleted, the others lose the reference. */
  private ownerGone(uid: string): void {
    if (this.alive(uid)) return;
    for (const key of [...(this.objects.store.dependents.get(uid) ?? [])]) {
      const found = this.lookup(key);
      if (!found) continue;
      const others = (found.object.metadata.ownerReferences ?? []).filter(
        (r) => r.uid !== uid && this.alive(r.uid),
      );
      if (others.length > 0) this.removeOwner(found.collection, found.object, uid);
      else this.deleteDependent(found.collection, found.object, "Background");
    }
  }

  /** Foreground: delete dependents, then drop the finalizer. Orphan: strip references, then drop it. */
  private ownerDeleting(uid: string): void {
    const where = this.objects.store.byUid.get(uid);
    if (!where) return;
    const owner = this.objects.store.collection(where.collection).get(where.namespace, where.name);
    if (!owner?.metadata.deletionTimestamp) return;
    const finalizers = owner.metadata.finalizers ?? [];
    const dependents = [...(this.objects.store.dependents.get(uid) ?? [])];
    let done: string | undefined;
    if (finalizers.includes("orphan")) {
      for (const key of dependents) {
        const found = this.lookup(key);
        if (found) this.removeOwner(found.collection, found.object, uid);
      }
      done = "orphan";
    } else if (finalizers.includes("foregroundDeletion")) {
      let blocking = 0;
      for (const key of dependents) {
        const found = this.lookup(key);
        if (!found) continue;
        const ref = found.object.metadata.ownerReferences?.find((r) => r.uid === uid);
        if (ref?.blockOwnerDeletion) blocking++;
        this.deleteDependent(found.collection, found.object, "Foreground");
      }
      if (blocking === 0) done = "foregroundDeletion";
    }
    if (!done) return;
    const t = this.typeOf(where.collection);
    if (!t) return;
    const next = {
      ...owner,
      metadata: { ...owner.metadata, finalizers: finalizers.filter((f) => f !== done) },
    };
    this.objects.internalUpdate(t, this.objects.view(t, next));
  }

  /** A dependent whose owners never existed (or are all gone) is collected, as kube's GC does. */
  private checkDangling(uid: string): void {
    const where = this.objects.store.byUid.get(uid);
    if (!where) return;
    const o = this.objects.store.collection(where.collection).get(where.namespace, where.name);
    const refs = o?.metadata.ownerReferences ?? [];
    if (!o || refs.length === 0 || refs.some((r) => this.alive(r.uid))) return;
    this.deleteDependent(where.collection, o, "Background");
  }
}
