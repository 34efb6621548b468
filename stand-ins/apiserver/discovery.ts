// Discovery documents: /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>, in the legacy
// (unaggregated) form that kubectl and client-go fall back to, and the aggregated v2 form.
import { groupVersion, type Registry, type ResourceType } from "./registry.ts";
import type { ReviewKind } from "./review-kind.ts";

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

interface SubresourceInfo {
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

function subresourceInfo(t: Pick<ResourceType, "kind">, sub: string): SubresourceInfo {
  switch (sub) {
    case "status":
      return { kind: t.kind, verbs: ["get", "patch", "update"] };
    case "log":
      return { kind: "Pod", verbs: ["get"] };
    case "token":
      return { kind: "TokenRequest", group: "authentication.k8s.io", version: "v1", verbs: ["create"] };
    case "eviction":
      return { kind: "Eviction", group: "policy", version: "v1", verbs: ["create"] };
    case "exec":
      return { kind: "PodExecOptions", verbs: ["create", "get"] };
    case "binding":
      return { kind: "Binding", verbs: ["create"] };
    case "finalize":
      return { kind: t.kind, verbs: ["update"] };
    case "scale":
      return { kind: "Scale", group: "autoscaling", version: "v1", verbs: ["get", "patch", "update"] };
    default:
      return { kind: t.kind, verbs: ["get"] };
  }
}

/** What discovery needs of a resource: a served type, or a create-only review API. */
type Entry = Pick<
  ResourceType,
  | "group"
  | "version"
  | "resource"
  | "singular"
  | "namespaced"
  | "kind"
  | "shortNames"
  | "categories"
  | "subresources"
  | "storageVersion"
  | "crd"
> & { verbs: string[] };

function entries(registry: Registry, reviews: ReviewKind[]): Entry[] {
  return [
    ...registry.all().map((t) => ({ ...t, verbs: VERBS })),
    ...reviews.map((r) => ({
      group: r.group,
      version: r.version,
      resource: r.resource,
      singular: r.kind.toLowerCase(),
      namespaced: r.namespaced ?? false,
      kind: r.kind,
      shortNames: [],
      categories: [],
      subresources: [],
      storageVersion: true,
      crd: undefined,
      verbs: ["create"],
    })),
  ];
}

function byGroupVersion(registry: Registry, reviews: ReviewKind[]): Map<string, Map<string, Entry[]>> {
  const groups = new Map<string, Map<string, Entry[]>>();
  for (const t of entries(registry, reviews)) {
    let versions = groups.get(t.group);
    if (!versions) {
      versions = new Map();
      groups.set(t.group, versions);
    }
    let list = versions.get(t.version);
    if (!list) {
      list = [];
      versions.set(t.version, list);
    }
    list.push(t);
  }
  return groups;
}

/** kube's version priority: v1 > v1beta1 > v1alpha1, GA before beta before alpha, then names. */
function versionOrder(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [3, 0, 0, v] as const;
    return [m[2] === undefined ? 0 : m[2] === "beta" ? 1 : 2, -Number(m[1]), -Number(m[3] ?? 0), v] as const;
  };
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] as number) - (pb[i] as number);
  return a < b ? -1 : a > b ? 1 : 0;
}

function preferredVersion(types: Map<string, Entry[]>): string {
  for (const [v, list] of types) if (list.some((t) => t.storageVersion && t.crd)) return v;
  return [...types.keys()].sort(versionOrder)[0]!;
}

export function apiVersions(serverAddress: string): unknown {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

export function apiResourceList(
  registry: Registry,
  group: string,
  version: string,
  reviews: ReviewKind[] = [],
): unknown | undefined {
  const types = byGroupVersion(registry, reviews).get(group)?.get(version);
  if (!types) return undefined;
  const resources: unknown[] = [];
  for (const t of [...types].sort((a, b) => (a.resource < b.resource ? -1 : 1))) {
    resources.push({
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      ...(t.shortNames.length > 0 ? { shortNames: t.shortNames } : {}),
      ...(t.categories.length > 0 ? { categories: t.categories } : {}),
    });
    for (const sub of t.subresources) {
      const info = subresourceInfo(t, sub);
      resources.push({
        name: `${t.resource}/${sub}`,
        singularName: "",
        namespaced: t.namespaced,
        ...(info.group !== undefined ? { group: info.group, version: info.version } : {}),
        kind: info.kind,
        verbs: info.verbs,
      });
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: groupVersion({ group, version }),
    resources,
  };
}

function apiGroup(name: string, versions: Map<string, Entry[]>): Record<string, unknown> {
  const sorted = [...versions.keys()].sort(versionOrder);
  const preferred = preferredVersion(versions);
  return {
    name,
    versions: sorted.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${name}/${preferred}`, version: preferred },
  };
}

export function apiGroupList(registry: Registry, reviews: ReviewKind[] = []): unknown {
  const groups = [...byGroupVersion(registry, reviews)].filter(([g]) => g !== "");
  groups.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return { kind: "APIGroupList", apiVersion: "v1", groups: groups.map(([g, v]) => apiGroup(g, v)) };
}

export function apiGroupDocument(
  registry: Registry,
  group: string,
  reviews: ReviewKind[] = [],
): unknown | undefined {
  const versions = byGroupVersion(registry, reviews).get(group);
  if (!versions || group === "") return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...apiGroup(group, versions) };
}

export const AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/** apidiscovery.k8s.io/v2 APIGroupDiscoveryList for /api (core) or /apis (every named group). */
export function aggregatedDiscovery(registry: Registry, core: boolean, reviews: ReviewKind[] = []): unknown {
  const groups = [...byGroupVersion(registry, reviews)].filter(([g]) => (g === "") === core);
  groups.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion: "apidiscovery.k8s.io/v2",
    metadata: {},
    items: groups.map(([group, versions]) => {
      const preferred = preferredVersion(versions);
      const ordered = [preferred, ...[...versions.keys()].filter((v) => v !== preferred).sort(versionOrder)];
      return {
        metadata: group === "" ? {} : { name: group },
        versions: ordered.map((version) => ({
          version,
          freshness: "Current",
          resources: versions
            .get(version)!
            .sort((a, b) => (a.resource < b.resource ? -1 : 1))
            .map((t) => ({
              resource: t.resource,
              responseKind: { group: t.group, version: t.version, kind: t.kind },
              scope: t.namespaced ? "Namespaced" : "Cluster",
              singularResource: t.singular,
              verbs: t.verbs,
              ...(t.shortNames.length > 0 ? { shortNames: t.shortNames } : {}),
              ...(t.categories.length > 0 ? { categories: t.categories } : {}),
              ...(t.subresources.length > 0
                ? {
                    subresources: t.subresources.map((sub) => {
                      const info = subresourceInfo(t, sub);
                      return {
                        subresource: sub,
                        responseKind: {
                          group: info.group ?? t.group,
                          version: info.version ?? t.version,
                          kind: info.kind,
                        },
                        verbs: info.verbs,
                      };
                    }),
                  }
                : {}),
            })),
        })),
      };
    }),
  };
}
