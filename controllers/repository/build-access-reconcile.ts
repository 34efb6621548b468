// Keeps each namespace's build access (build-access.ts) in the cluster: a reconcile per namespace, from
// the Repository cache. Creates what is missing, updates what drifted, removes what is no longer wanted,
// and leaves alone an object of the same name that Kiln did not make (logged once, the Build's pod then
// says what is wrong). Looked at again every interval, so a hand-deleted object comes back.
import type { Repository } from "../../api/repository.ts";
import { type KubeClient, resourcePath } from "../../lib/kube.ts";
import { isNotFound } from "../../lib/kube-errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { ObjectKey } from "../../lib/runtime/keys.ts";
import {
  type BuildAccessConfig,
  buildAccess,
  differs,
  type ManagedObject,
  managedByKiln,
} from "./build-access.ts";

export interface BuildAccessDeps {
  client: KubeClient;
  repositoriesIn(namespace: string): Repository[];
  config: BuildAccessConfig;
  log: Logger;
  intervalMs: number;
}

/** The namespace's key: one reconcile per namespace, whichever of its Repositories changed. */
export const namespaceKey = (namespace: string): ObjectKey => ({ namespace, name: "" });

async function read(client: KubeClient, path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await client.get<Record<string, unknown>>(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function buildAccessReconciler(deps: BuildAccessDeps) {
  const { client, config, log } = deps;
  const foreign = new Set<string>();

  async function ensure(o: ManagedObject): Promise<void> {
    const path = resourcePath(o.apiVersion, o.plural, o.metadata.namespace, o.metadata.name);
    const current = await read(client, path);
    const manifest = { apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata, ...o.body };
    if (!current) {
      await client.create(resourcePath(o.apiVersion, o.plural, o.metadata.namespace), manifest);
      log.info(
        { namespace: o.metadata.namespace, kind: o.kind, name: o.metadata.name },
        "created build access",
      );
      return;
    }
    if (!managedByKiln(current)) {
      if (!foreign.has(path))
        log.warn(
          { namespace: o.metadata.namespace, kind: o.kind, name: o.metadata.name },
          "exists and is not Kiln's: left as it is",
        );
      foreign.add(path);
      return;
    }
    if (differs(current, o)) {
      await client.mergePatch(path, {
        metadata: { labels: o.metadata.labels, ownerReferences: o.metadata.ownerReferences },
        ...o.body,
      });
    }
  }

  return async ({ namespace }: ObjectKey): Promise<{ requeueAfter: number } | undefined> => {
    const repositories = deps.repositoriesIn(namespace);
    const wanted = buildAccess(namespace, repositories, config);
    // Nothing wanted: every object is owned by the namespace's Repositories, and the garbage collector
    // removes it once the last of them is gone.
    for (const o of wanted.keep) await ensure(o);
    for (const r of wanted.remove) {
      const path = resourcePath(r.apiVersion, r.plural, namespace, r.name);
      const current = await read(client, path);
      if (current && managedByKiln(current)) await client.delete(path);
    }
    return wanted.keep.length > 0 ? { requeueAfter: deps.intervalMs } : undefined;
  };
}
