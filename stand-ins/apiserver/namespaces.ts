// Namespace lifecycle, as kube-controller-manager runs it: every namespace gets a `default`
// ServiceAccount and the `kube-root-ca.crt` ConfigMap; a namespace being deleted has its contents
// deleted, and goes itself once they are all gone.
import type { Logger } from "../../lib/log.ts";
import { coalesce } from "./coalesce.ts";
import { ApiError } from "./errors.ts";
import type { Objects } from "./objects.ts";
import type { ResourceType } from "./registry.ts";
import type { KubeObject } from "./storage.ts";

export class NamespaceController {
  private readonly objects: Objects;
  private readonly caPem: string;
  private readonly log: Logger | undefined;
  private readonly terminating = new Set<string>();
  // A microtask: done before the client can send its next request, as if it were part of the write.
  private readonly enqueue = coalesce<string>(queueMicrotask, (name) => {
    const ns = this.objects.store.collection("/namespaces").get(undefined, name);
    if (!ns) return;
    try {
      if (ns.metadata.deletionTimestamp) this.finalize(ns);
      else this.populate(ns);
    } catch (error) {
      this.log?.error({ err: error, namespace: name }, "namespace controller failed");
    }
  });
  private stopListening: () => void = () => {};

  constructor(objects: Objects, caPem: string, log?: Logger) {
    this.objects = objects;
    this.caPem = caPem;
    this.log = log;
  }

  private type(resource: string): ResourceType {
    return this.objects.registry.find("", "v1", resource)!;
  }

  start(): void {
    for (const ns of this.objects.store.collection("/namespaces").list()) this.populate(ns);
    this.stopListening = this.objects.store.listen((c, e) => {
      const m = e.object.metadata;
      if (c.name === "/namespaces") {
        if (e.type === "DELETED") this.terminating.delete(m.name!);
        else if (m.deletionTimestamp) this.enqueue(m.name!);
        else if (e.type === "ADDED") this.enqueue(m.name!);
        return;
      }
      if (!m.namespace) return;
      if (this.terminating.has(m.namespace)) this.enqueue(m.namespace);
      else if (
        e.type === "DELETED" &&
        ((c.name === "/serviceaccounts" && m.name === "default") ||
          (c.name === "/configmaps" && m.name === "kube-root-ca.crt"))
      ) {
        this.enqueue(m.namespace);
      }
    });
  }

  stop(): void {
    this.stopListening();
  }

  private ensure(resource: string, namespace: string, object: KubeObject): void {
    const t = this.type(resource);
    if (this.objects.find(t, namespace, object.metadata.name!)) return;
    try {
      this.objects.create(t, namespace, object, { internal: true, fieldValidation: "Ignore" });
    } catch (error) {
      if (!(error instanceof ApiError && (error.code === 409 || error.code === 403 || error.code === 404)))
        throw error;
    }
  }

  private populate(ns: KubeObject): void {
    const name = ns.metadata.name!;
    this.ensure("serviceaccounts", name, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "default" },
    });
    this.ensure("configmaps", name, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "kube-root-ca.crt",
        annotations: {
          "kubernetes.io/description":
            "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.",
        },
      },
      data: { "ca.crt": this.caPem },
    });
  }

  /** Deletes what is left in the namespace; removes the namespace when nothing is. */
  private finalize(ns: KubeObject): void {
    const name = ns.metadata.name!;
    this.terminating.add(name);
    let remaining = 0;
    for (const c of this.objects.store.allCollections()) {
      const t = this.objects.registry.forCollection(c.name);
      if (!t?.namespaced) continue;
      for (const o of c.list(name)) {
        remaining++;
        if (o.metadata.deletionTimestamp) continue;
        try {
          this.objects.delete(t, name, o.metadata.name!, { propagationPolicy: "Background" });
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
        }
      }
    }
    // What the deletes left behind (finalizers, graceful pods) brings us back here when it goes.
    let left = 0;
    for (const c of this.objects.store.allCollections()) {
      const t = this.objects.registry.forCollection(c.name);
      if (t?.namespaced) left += c.list(name).length;
    }
    if (remaining > 0 && left > 0) return;
    const t = this.type("namespaces");
    const current = this.objects.store.collection("/namespaces").get(undefined, name);
    if (!current) return;
    const finalizers = (current.metadata.finalizers ?? []).length;
    if (finalizers > 0) {
      // Content is gone; spec.finalizers "kubernetes" is done, metadata finalizers still hold it.
      this.objects.store.update(t.collection, { ...current, spec: { finalizers: [] } });
      return;
    }
    this.objects.store.delete(t.collection, undefined, name);
  }
}
