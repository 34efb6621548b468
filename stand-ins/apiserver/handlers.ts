// Resource requests: maps a parsed request (verb, resource, name, subresource) onto the object
// lifecycle in objects.ts, with kube's query parameters, patch types, negotiation and status codes.
import {
  ApiError,
  badRequest,
  methodNotAllowed,
  notFound,
  pathNotFound,
  unsupportedMediaType,
} from "./errors.ts";
import { type Request, readObject, sendJSON, warningHeader } from "./http-io.ts";
import { listObjects, parseSelection, selectionMatcher } from "./list.ts";
import { negotiate, type Representation } from "./negotiate.ts";
import type { DeleteOptions, FieldValidation, Objects, WriteResult } from "./objects.ts";
import { applyPatch, patchType } from "./patch.ts";
import type { UserInfo } from "./rbac/user.ts";
import { groupVersion, type ResourceType } from "./registry.ts";
import type { RequestInfo } from "./request-info.ts";
import type { KubeObject } from "./storage.ts";
import { parseIncludeObject, partialObjectMetadata, toTable } from "./table.ts";
import { type Response, serveWatch } from "./watch.ts";

export type SubresourceHandler = (
  req: Request,
  res: Response,
  t: ResourceType,
  info: RequestInfo,
  url: URL,
) => Promise<void>;

export interface HandlerDeps {
  objects: Objects;
  bookmarkIntervalMs: number;
  /** log, token, eviction …: keyed by `<collection>/<subresource>`. */
  subresources: Record<string, SubresourceHandler>;
  /** Who the request acts as (for the write checks: RBAC escalation, owner-reference admission). */
  user?: UserInfo;
}

function fieldValidation(query: URLSearchParams): FieldValidation {
  const v = query.get("fieldValidation");
  if (v === null || v === "") return "Warn";
  if (v === "Strict" || v === "Warn" || v === "Ignore") return v;
  throw badRequest(`fieldValidation parameter unsupported: ${v}, must be one of Ignore, Warn, Strict`);
}

export function dryRun(query: URLSearchParams, body?: { dryRun?: unknown }): boolean {
  const values = [
    ...query.getAll("dryRun"),
    ...(Array.isArray(body?.dryRun) ? (body.dryRun as string[]) : []),
  ];
  for (const v of values)
    if (v !== "All") throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

function requireObject(body: unknown): KubeObject {
  if (body === undefined) throw badRequest("the body of the request must not be empty");
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw badRequest("the body of the request must be a JSON object");
  return body as KubeObject;
}

function render(
  t: ResourceType,
  o: KubeObject,
  representation: Representation,
  url: URL,
  now: Date,
  noHeaders = false,
): unknown {
  if (representation === "table") {
    return toTable(t, [o], {
      include: parseIncludeObject(url.searchParams.get("includeObject")),
      now,
      resourceVersion: o.metadata.resourceVersion,
      noHeaders,
    });
  }
  if (representation === "metadata") return partialObjectMetadata(o);
  return o;
}

function contentTypeFor(representation: Representation): string {
  if (representation === "table") return "application/json;as=Table;v=v1;g=meta.k8s.io";
  if (representation === "metadata") return "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io";
  return "application/json";
}

export async function handleResource(
  req: Request,
  res: Response,
  info: RequestInfo,
  url: URL,
  deps: HandlerDeps,
): Promise<void> {
  const { objects } = deps;
  const t = objects.registry.find(info.group, info.version, info.resource);
  if (!t) throw pathNotFound();
  if (t.namespaced && info.namespace === undefined && !["list", "watch"].includes(info.verb)) {
    // Namespaced objects are only addressed inside a namespace.
    throw pathNotFound();
  }
  if (!t.namespaced && info.namespace !== undefined) throw pathNotFound();
  const representation = negotiate(req.headers.accept as string | undefined);
  const query = url.searchParams;
  const now = objects.env.now();
  const ns = info.namespace;

  if (info.subresource !== undefined) {
    if (!t.subresources.includes(info.subresource)) throw notFound(objects.target(t, info.name));
    if (info.subresource === "status") {
      await handleMain(req, res, t, info, url, deps, representation, "status");
      return;
    }
    const handler = deps.subresources[`${t.collection}/${info.subresource}`];
    if (!handler) throw methodNotAllowed(info.verb, objects.target(t, info.name));
    await handler(req, res, t, info, url);
    return;
  }

  if (info.verb === "list") {
    const selection = parseSelection(t, ns, query);
    const c = objects.store.collection(t.collection);
    const result = listObjects(t, c, objects.store.resourceVersion, selection, query);
    const items = result.items.map((o) => objects.view(t, o));
    const listMeta = {
      resourceVersion: result.resourceVersion,
      ...(result.continue ? { continue: result.continue } : {}),
      ...(result.remainingItemCount !== undefined ? { remainingItemCount: result.remainingItemCount } : {}),
    };
    if (representation === "table") {
      const table = toTable(t, items, {
        include: parseIncludeObject(query.get("includeObject")),
        now,
        ...listMeta,
      });
      sendJSON(res, 200, table, {
        "content-type": contentTypeFor("table"),
      });
    } else if (representation === "metadata") {
      sendJSON(res, 200, {
        kind: "PartialObjectMetadataList",
        apiVersion: "meta.k8s.io/v1",
        metadata: listMeta,
        items: items.map(partialObjectMetadata),
      });
    } else {
      sendJSON(res, 200, { kind: t.listKind, apiVersion: groupVersion(t), metadata: listMeta, items });
    }
    return;
  }

  if (info.verb === "watch") {
    const selection = parseSelection(t, ns, query);
    if (info.name !== undefined)
      selection.fields.push({ field: "metadata.name", value: info.name, negate: false });
    let headersSent = false;
    serveWatch(res, {
      store: objects.store,
      collection: t.collection,
      namespace: selection.namespace,
      matches: selectionMatcher(t, selection),
      // Table watch events carry the column definitions once, in the first event.
      render: (o) => {
        const out = render(t, objects.view(t, o), representation, url, objects.env.now(), headersSent);
        headersSent = true;
        return out;
      },
      bookmarkObject: (rv, end) => ({
        kind: t.kind,
        apiVersion: groupVersion(t),
        metadata: {
          resourceVersion: rv,
          ...(end ? { annotations: { "k8s.io/initial-events-end": "true" } } : {}),
        },
      }),
      query,
      bookmarkIntervalMs: deps.bookmarkIntervalMs,
      contentType: contentTypeFor(representation),
    });
    return;
  }

  if (info.verb === "deletecollection") {
    const body = (await readObject(req)) as (DeleteOptions & { dryRun?: unknown }) | undefined;
    const selection = parseSelection(t, ns, query);
    const c = objects.store.collection(t.collection);
    const result = listObjects(t, c, objects.store.resourceVersion, selection, new URLSearchParams());
    const options = deleteOptions(query, body);
    const deleted: KubeObject[] = [];
    for (const o of result.items) {
      try {
        deleted.push(objects.delete(t, o.metadata.namespace, o.metadata.name!, options).object);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 404)) throw error;
      }
    }
    sendJSON(res, 200, {
      kind: t.listKind,
      apiVersion: groupVersion(t),
      metadata: { resourceVersion: String(objects.store.resourceVersion) },
      items: deleted,
    });
    return;
  }

  await handleMain(req, res, t, info, url, deps, representation, undefined);
}

/** Core collections whose kube storage answers a delete with the deleted object (ReturnDeletedObject). */
const RETURNS_DELETED = new Set(["/pods", "/services", "/serviceaccounts", "/namespaces"]);

function deleteOptions(
  query: URLSearchParams,
  body: (DeleteOptions & { dryRun?: unknown; orphanDependents?: boolean }) | undefined,
): DeleteOptions {
  const policy =
    body?.propagationPolicy ??
    (query.get("propagationPolicy") as DeleteOptions["propagationPolicy"] | null) ??
    undefined;
  if (policy !== undefined && !["Background", "Foreground", "Orphan"].includes(policy)) {
    throw badRequest(
      `propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
    );
  }
  const graceText = query.get("gracePeriodSeconds");
  const grace = body?.gracePeriodSeconds ?? (graceText !== null ? Number(graceText) : undefined);
  if (grace !== undefined && !Number.isFinite(grace))
    throw badRequest(`invalid gracePeriodSeconds: ${graceText}`);
  const orphan =
    body?.orphanDependents ??
    (query.has("orphanDependents") ? query.get("orphanDependents") === "true" : undefined);
  return {
    propagationPolicy: policy ?? (orphan === true ? "Orphan" : orphan === false ? "Background" : undefined),
    gracePeriodSeconds: grace,
    preconditions: body?.preconditions,
    dryRun: dryRun(query, body),
  };
}

async function handleMain(
  req: Request,
  res: Response,
  t: ResourceType,
  info: RequestInfo,
  url: URL,
  deps: HandlerDeps,
  representation: Representation,
  subresource: "status" | undefined,
): Promise<void> {
  const { objects } = deps;
  const query = url.searchParams;
  const ns = info.namespace;
  const name = info.name;
  const now = () => objects.env.now();
  const reply = (code: number, result: WriteResult | { object: KubeObject; warnings?: string[] }) =>
    sendJSON(res, code, render(t, result.object, representation, url, now()), {
      "content-type": contentTypeFor(representation),
      ...warningHeader(result.warnings ?? []),
    });

  switch (info.verb) {
    case "get": {
      reply(200, { object: objects.get(t, ns, name!) });
      return;
    }
    case "create": {
      if (name !== undefined || subresource) throw methodNotAllowed("create", objects.target(t, name));
      const body = requireObject(await readObject(req));
      const result = objects.create(t, ns, body, {
        dryRun: dryRun(query),
        fieldValidation: fieldValidation(query),
        user: deps.user,
      });
      reply(201, result);
      return;
    }
    case "update": {
      const body = requireObject(await readObject(req));
      const result = objects.update(t, ns, name!, body, {
        dryRun: dryRun(query),
        fieldValidation: fieldValidation(query),
        subresource,
        user: deps.user,
      });
      reply(result.created ? 201 : 200, result);
      return;
    }
    case "patch": {
      const type = patchType(req.headers["content-type"] as string | undefined);
      if (type === "apply") throw unsupportedMediaType("application/apply-patch+yaml");
      if (type === "strategic" && !t.strategicMerge)
        throw unsupportedMediaType("application/strategic-merge-patch+json");
      const patch = await readObject(req);
      if (patch === undefined) throw badRequest("the body of the request must not be empty");
      const current = objects.get(t, ns, name!);
      const patched = applyPatch(type, current, patch) as KubeObject;
      if (patched === null || typeof patched !== "object" || Array.isArray(patched))
        throw badRequest("the patch must produce a JSON object");
      patched.metadata ??= {};
      // The patched object carries the current resourceVersion unless the patch set one (a precondition).
      patched.metadata.resourceVersion ??= current.metadata.resourceVersion;
      const result = objects.update(t, ns, name!, patched, {
        dryRun: dryRun(query),
        fieldValidation: fieldValidation(query),
        subresource,
        user: deps.user,
      });
      reply(200, result);
      return;
    }
    case "delete": {
      if (subresource) throw methodNotAllowed("delete", objects.target(t, name));
      const body = (await readObject(req)) as
        | (DeleteOptions & { dryRun?: unknown; orphanDependents?: boolean })
        | undefined;
      const result = objects.delete(t, ns, name!, deleteOptions(query, body));
      // kube answers an immediate delete of most kinds with a Success Status; the kinds whose storage sets
      // ReturnDeletedObject (pods, services, service accounts, namespaces, custom resources) and anything
      // still being deleted get the object.
      const returnsObject = !result.deleted || t.crd !== undefined || RETURNS_DELETED.has(t.collection);
      // 202 only for an object left in place when the deprecated orphanDependents=false asked to cascade.
      const orphanDependents =
        body?.orphanDependents ??
        (query.has("orphanDependents") ? query.get("orphanDependents") === "true" : undefined);
      const code = !result.deleted && orphanDependents === false ? 202 : 200;
      if (returnsObject) reply(code, { object: result.object });
      else
        sendJSON(res, 200, {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Success",
          details: {
            name,
            ...(t.group ? { group: t.group } : {}),
            kind: t.resource,
            uid: result.object.metadata.uid,
          },
        });
      return;
    }
    default:
      throw methodNotAllowed(info.verb, objects.target(t, name));
  }
}
