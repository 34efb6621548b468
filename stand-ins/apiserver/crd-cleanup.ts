// What apiextensions' finalizer controller does for a CRD being deleted: mark it Terminating, delete
// its custom resources (their own finalizers are honoured), and let the CRD go once none is left.
import type { Logger } from "../../lib/log.ts";
import { coalesce } from "./coalesce.ts";
import { CRD_CLEANUP_FINALIZER, type CRDSpec, terminatingCondition } from "./crd-strategy.ts";
import { ApiError } from "./errors.ts";
import type { Objects } from "./objects.ts";

const CRDS = "apiextensions.k8s.io/customresourcedefinitions";

export class CRDCleanup {
  private readonly objects: Objects;
  private readonly log: Logger | undefined;
  /** collection → CRD name, for CRDs being cleaned up. */
  private readonly terminating = new Map<string, string>();
  private readonly enqueue = coalesce<string>(setImmediate, (name) => {
    try {
      this.cleanup(name);
    } catch (error) {
      if (!(error instanceof ApiError)) this.log?.error({ err: error, crd: name }, "CRD cleanup failed");
    }
  });
  private stopListening: () => void = () => {};

  constructor(objects: Objects, log?: Logger) {
    this.objects = objects;
    this.log = log;
  }

  start(): void {
    this.stopListening = this.objects.store.listen((c, e) => {
      if (c.name === CRDS) {
        const m = e.object.metadata;
        if (e.type !== "DELETED" && m.deletionTimestamp && m.finalizers?.includes(CRD_CLEANUP_FINALIZER))
          this.enqueue(m.name!);
        return;
      }
      const crd = this.terminating.get(c.name);
      if (crd && e.type === "DELETED") this.enqueue(crd);
    });
  }

  stop(): void {
    this.stopListening();
  }

  private cleanup(name: string): void {
    const crdType = this.objects.registry.find("apiextensions.k8s.io", "v1", "customresourcedefinitions")!;
    let crd = this.objects.find(crdType, undefined, name);
    if (!crd?.metadata.deletionTimestamp || !crd.metadata.finalizers?.includes(CRD_CLEANUP_FINALIZER)) return;
    const spec = crd.spec as CRDSpec;
    const collection = `${spec.group}/${spec.names.plural}`;
    this.terminating.set(collection, name);
    const status = (crd.status ?? {}) as { conditions?: { type: string }[] };
    if (!status.conditions?.some((c) => c.type === "Terminating")) {
      const conditions = [...(status.conditions ?? []), terminatingCondition(this.objects.env.now())];
      crd =
        this.objects.internalUpdate(crdType, { ...crd, status: { ...status, conditions } }, "status") ?? crd;
    }
    const t = this.objects.registry.forCollection(collection);
    const items = this.objects.store.collection(collection).list();
    if (t) {
      for (const o of items) {
        if (o.metadata.deletionTimestamp) continue;
        try {
          this.objects.delete(t, o.metadata.namespace, o.metadata.name!, { propagationPolicy: "Background" });
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
        }
      }
    }
    if (this.objects.store.collection(collection).size > 0) return;
    this.terminating.delete(collection);
    const finalizers = (crd.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    this.objects.internalUpdate(crdType, { ...crd, metadata: { ...crd.metadata, finalizers } });
  }
}
