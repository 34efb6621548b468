// /openapi/v2 and /openapi/v3 (index + one document per group-version, addressed with ?hash=), built by
// the schema engine. Built-in kinds are described by their resource paths with an open schema: enough for
// kubectl's field-validation probe; CRDs get their full schemas (kubectl explain, kubectl validation).
import type { JSONSchemaProps } from "../../api/structural-schema.ts";
import { notAcceptable, pathNotFound } from "./errors.ts";
import { type Request, sendJSON } from "./http-io.ts";
import type { Registry, ResourceType } from "./registry.ts";
import {
  type CustomResourceDefinitionLike,
  openAPIV2,
  openAPIV3ForGroupVersion,
  openAPIV3Index,
} from "./schema/index.ts";
import type { Response } from "./watch.ts";

const OPEN_SCHEMA: JSONSchemaProps = { type: "object", "x-kubernetes-preserve-unknown-fields": true };

/** A CRD-shaped description of a built-in resource, so one generator serves both. */
function describeBuiltin(t: ResourceType): CustomResourceDefinitionLike {
  return {
    spec: {
      group: t.group,
      scope: t.namespaced ? "Namespaced" : "Cluster",
      names: { kind: t.kind, listKind: t.listKind, plural: t.resource, singular: t.singular },
      versions: [
        {
          name: t.version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: OPEN_SCHEMA },
          subresources: t.statusSubresource ? { status: {} } : undefined,
        },
      ],
    },
  };
}

function definitions(registry: Registry): {
  crds: CustomResourceDefinitionLike[];
  builtins: CustomResourceDefinitionLike[];
} {
  const crds = new Map<string, CustomResourceDefinitionLike>();
  const builtins: CustomResourceDefinitionLike[] = [];
  for (const t of registry.all()) {
    if (t.crd) crds.set(t.crd.metadata.name!, t.crd as unknown as CustomResourceDefinitionLike);
    else builtins.push(describeBuiltin(t));
  }
  return { crds: [...crds.values()], builtins };
}

function groupVersions(registry: Registry): Map<string, { group: string; version: string }> {
  const out = new Map<string, { group: string; version: string }>();
  for (const t of registry.all()) {
    const path = t.group === "" ? `api/${t.version}` : `apis/${t.group}/${t.version}`;
    out.set(path, { group: t.group, version: t.version });
  }
  return out;
}

/** The generator writes `/apis/<group>/…`; the core group lives under `/api/v1`. */
function fixCorePaths(doc: object): object {
  const d = doc as { paths?: Record<string, unknown> };
  if (!d.paths) return doc;
  d.paths = Object.fromEntries(
    Object.entries(d.paths).map(([p, v]) => [p.replace(/^\/apis\/\//, "/api/"), v]),
  );
  return d;
}

export class OpenAPICache {
  private readonly registry: Registry;
  private v3: Map<string, object> | undefined;
  private v2: object | undefined;

  constructor(registry: Registry) {
    this.registry = registry;
    registry.onChange(() => {
      this.v3 = undefined;
      this.v2 = undefined;
    });
  }

  documentsV3(): Map<string, object> {
    if (this.v3) return this.v3;
    const { crds, builtins } = definitions(this.registry);
    const all = [...crds, ...builtins];
    const docs = new Map<string, object>();
    for (const [path, gv] of groupVersions(this.registry)) {
      docs.set(path, fixCorePaths(openAPIV3ForGroupVersion(all, gv.group, gv.version)));
    }
    this.v3 = docs;
    return docs;
  }

  documentV2(): object {
    if (!this.v2) {
      const { crds, builtins } = definitions(this.registry);
      this.v2 = fixCorePaths(openAPIV2([...crds, ...builtins]));
    }
    return this.v2;
  }
}

export function serveOpenAPI(req: Request, res: Response, url: URL, cache: OpenAPICache): void {
  const path = url.pathname.replace(/\/+$/, "");
  if (path === "/openapi/v2") {
    // Only JSON is served; a client that accepts nothing else (kubectl asks for protobuf) is told so.
    const accept = String(req.headers.accept ?? "");
    if (accept && !/json|\*\/\*/.test(accept)) throw notAcceptable(accept);
    sendJSON(res, 200, cache.documentV2());
    return;
  }
  const docs = cache.documentsV3();
  if (path === "/openapi/v3") {
    sendJSON(res, 200, openAPIV3Index(Object.fromEntries(docs)));
    return;
  }
  const doc = docs.get(path.slice("/openapi/v3/".length));
  if (!doc || !path.startsWith("/openapi/v3/")) throw pathNotFound();
  const cacheControl = url.searchParams.has("hash")
    ? "public, immutable, max-age=31536000"
    : "no-cache, private";
  sendJSON(res, 200, doc, { "cache-control": cacheControl });
}
