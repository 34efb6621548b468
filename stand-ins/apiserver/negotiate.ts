// Response negotiation: plain JSON, server-side Table (`as=Table;g=meta.k8s.io;v=v1`) for kubectl get,
// and PartialObjectMetadata(List) for metadata-only clients.
import { notAcceptable } from "./errors.ts";

export type Representation = "object" | "table" | "metadata";

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseAccept(accept: string): MediaRange[] {
  return accept
    .split(",")
    .map((part) => {
      const [type, ...params] = part.split(";").map((s) => s.trim());
      const record: Record<string, string> = {};
      for (const p of params) {
        const [k, v] = p.split("=");
        if (k && v !== undefined) record[k.trim()] = v.trim();
      }
      return { type: (type ?? "").toLowerCase(), params: record };
    })
    .filter((r) => r.type !== "");
}

/** Picks the first acceptable representation in the client's order (kube ignores q-values here too). */
export function negotiate(accept: string | undefined): Representation {
  if (!accept) return "object";
  const ranges = parseAccept(accept);
  for (const r of ranges) {
    const jsonLike =
      r.type === "application/json" ||
      r.type === "*/*" ||
      r.type === "application/*" ||
      r.type === "application/yaml";
    if (!jsonLike) continue;
    const as = r.params.as;
    if (!as) return "object";
    if (r.params.g === "meta.k8s.io" && (r.params.v === "v1" || r.params.v === "v1beta1")) {
      if (as === "Table") return "table";
      if (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") return "metadata";
    }
  }
  throw notAcceptable(accept);
}

/** Aggregated discovery (`as=APIGroupDiscoveryList;g=apidiscovery.k8s.io;v=v2`) when asked for first. */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  if (!accept) return false;
  for (const r of parseAccept(accept)) {
    if (
      r.params.as === "APIGroupDiscoveryList" &&
      r.params.g === "apidiscovery.k8s.io" &&
      r.params.v === "v2"
    )
      return true;
    if (r.type === "application/json" && !r.params.as) return false;
  }
  return false;
}
