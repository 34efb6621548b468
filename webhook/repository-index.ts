// Repositories by GitHub owner/name and by namespace/name, from the controller runtime's informer.
import type { KubernetesObject } from "@kubernetes/client-node";
import { API_VERSION, RESOURCES } from "../api/group.ts";
import { type Repository, repository as repositorySchema } from "../api/repository.ts";
import { UnavailableError } from "../lib/http-error.ts";
import type { KubeClient } from "../lib/kube.ts";
import type { Logger } from "../lib/log.ts";
import { resourceInformer } from "../lib/runtime/kube-source.ts";
import type { RepositoryLookup } from "./deps.ts";

export function githubKey(owner: string, name: string): string {
  return `${owner}/${name}`.toLowerCase();
}

/** Pure: index Repositories by GitHub owner/name and by namespace/name; ones that do not parse are left out (and reported). */
export function indexRepositories(objects: readonly unknown[]): {
  index: Map<string, Repository[]>;
  byName: Map<string, Repository>;
  invalid: string[];
} {
  const index = new Map<string, Repository[]>();
  const byName = new Map<string, Repository>();
  const invalid: string[] = [];
  for (const object of objects) {
    const parsed = repositorySchema.safeParse(object);
    if (!parsed.success) {
      const meta = (object as { metadata?: { namespace?: string; name?: string } }).metadata;
      invalid.push(`${meta?.namespace}/${meta?.name}`);
      continue;
    }
    const key = githubKey(parsed.data.spec.github.owner, parsed.data.spec.github.name);
    index.set(key, [...(index.get(key) ?? []), parsed.data]);
    byName.set(`${parsed.data.metadata.namespace}/${parsed.data.metadata.name}`, parsed.data);
  }
  return { index, byName, invalid };
}

export interface RepositoryIndex extends RepositoryLookup {
  start(): Promise<void>;
  stop(): void;
}

/**
 * The Repositories of the watched namespaces, from the runtime's supervised informer (restarted with
 * backoff on errors, resynced, the same one the controllers use). Lookups answer 503 until it has listed.
 */
export function kubeRepositoryIndex(
  client: KubeClient,
  namespaces: readonly string[],
  log: Logger,
): RepositoryIndex {
  const informer = resourceInformer<KubernetesObject>(client, API_VERSION, RESOURCES.Repository.plural, {
    namespaces: [...namespaces],
    log,
  });
  let index = new Map<string, Repository[]>();
  let byName = new Map<string, Repository>();
  // Rebuilt on the next lookup after a change, not on every watch event: the initial list alone sends
  // one "add" per Repository, and re-indexing on each would parse n² objects at start-up.
  let dirty = true;
  informer.on(() => {
    dirty = true;
  });
  const current = () => {
    if (!informer.hasSynced) throw new UnavailableError("Repository cache is not synced yet; try again");
    if (!dirty) return;
    dirty = false;
    const next = indexRepositories(informer.list());
    if (next.invalid.length > 0)
      log.warn({ invalid: next.invalid }, "Repositories that do not parse are ignored");
    index = next.index;
    byName = next.byName;
  };
  return {
    async start() {
      informer.start();
      await informer.synced();
      current(); // at once, so Repositories that do not parse are reported at start
    },
    stop: () => informer.stop(),
    ready: () => informer.hasSynced,
    find(owner, name) {
      current();
      return index.get(githubKey(owner, name)) ?? [];
    },
    named(namespace, name) {
      current();
      return byName.get(`${namespace}/${name}`);
    },
  };
}
