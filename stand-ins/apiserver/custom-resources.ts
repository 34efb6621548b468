// Turns a CustomResourceDefinition into the resource types the server serves (one per served version),
// and keeps the registry in step with the CRD collection.
import { metadataCauses } from "./builtin-validation.ts";
import { applyDefaults, prune, type Schema, validate } from "./crd-schema.ts";
import type { CRDSpec } from "./crd-strategy.ts";
import type { Registry, ResourceType } from "./registry.ts";
import type { KubeObject, Store } from "./storage.ts";

/** Reads a simple JSONPath (`.spec.foo.bar`) as selectableFields use. */
function readPath(o: unknown, path: string): string | undefined {
  let v = o;
  for (const part of path.replace(/^\./, "").split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  if (v === undefined || v === null) return undefined;
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

export function customResourceTypes(crd: KubeObject): ResourceType[] {
  const spec = crd.spec as CRDSpec;
  return spec.versions
    .filter((v) => v.served)
    .map((v) => {
      const schema = (v.schema?.openAPIV3Schema ?? { type: "object" }) as Schema;
      const selectable: ResourceType["selectableFields"] = {
        "metadata.name": (o) => o.metadata.name,
        "metadata.namespace": (o) => o.metadata.namespace,
      };
      for (const f of v.selectableFields ?? [])
        selectable[f.jsonPath.replace(/^\./, "")] = (o) => readPath(o, f.jsonPath);
      const t: ResourceType = {
        group: spec.group,
        version: v.name,
        resource: spec.names.plural,
        kind: spec.names.kind,
        listKind: spec.names.listKind ?? `${spec.names.kind}List`,
        singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
        namespaced: spec.scope === "Namespaced",
        shortNames: spec.names.shortNames ?? [],
        categories: spec.names.categories ?? [],
        subresources: v.subresources?.status ? ["status"] : [],
        collection: `${spec.group}/${spec.names.plural}`,
        statusSubresource: v.subresources?.status !== undefined,
        hasGeneration: true,
        allowCreateOnUpdate: false,
        allowUnconditionalUpdate: false,
        strategicMerge: false,
        selectableFields: selectable,
        prune: (o) => prune(o, schema),
        defaults: (o) => applyDefaults(o, schema),
        validate: (o) => [...metadataCauses(o, "subdomain"), ...validate(o, schema)],
        crd,
        storageVersion: v.storage,
      };
      return t;
    });
}

/** Registers and unregisters CR types as CRDs come and go (the server's crd controller). */
export function syncCustomResources(store: Store, registry: Registry): () => void {
  const registered = new Map<string, ResourceType[]>();
  const apply = (crd: KubeObject | undefined, name: string) => {
    for (const t of registered.get(name) ?? []) registry.remove(t.group, t.version, t.resource);
    registered.delete(name);
    if (!crd) return;
    const types = customResourceTypes(crd);
    for (const t of types) registry.add(t);
    registered.set(name, types);
  };
  const crds = "apiextensions.k8s.io/customresourcedefinitions";
  for (const crd of store.collection(crds).list()) apply(crd, crd.metadata.name!);
  return store.listen((collection, event) => {
    if (collection.name !== crds) return;
    const name = event.object.metadata.name!;
    if (event.type === "DELETED") {
      const old = registered.get(name)?.[0];
      apply(undefined, name);
      if (old) store.dropCollection(old.collection);
    } else {
      apply(event.object, name);
    }
  });
}
