// Repositories by GitHub owner/name, from a watch (client-node's informer), restarted with capped
// backoff whenever it stops — client-node's informer gives up on errors other than 410.
import { CustomObjectsApi, type KubeConfig, makeInformer } from "@kubernetes/client-node";
import { GROUP, RESOURCES, VERSION } from "../api/group.ts";
import { type Repository, repository as repositorySchema } from "../api/repository.ts";
import type { Logger } from "../lib/log.ts";
import type { RepositoryLookup } from "./deps.ts";
import { UnavailableError } from "./http-error.ts";

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

export function kubeRepositoryIndex(
  kubeConfig: KubeConfig,
  namespaces: readonly string[],
  log: Logger,
): RepositoryIndex {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const plural = RESOURCES.Repository.plural;
  const scopes = namespaces.length === 0 ? [undefined] : [...namespaces];
  const informers = scopes.map((namespace) => {
    const path =
      namespace === undefined
        ? `/apis/${GROUP}/${VERSION}/${plural}`
        : `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`;
    const list = () =>
      (namespace === undefined
        ? api.listClusterCustomObject({ group: GROUP, version: VERSION, plural })
        : api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural })) as never;
    return makeInformer(kubeConfig, path, list);
  });
  // Like client-go's HasSynced: true once every informer has listed; after that a broken watch keeps
  // serving the last state while it restarts (creating the Build will fail loudly if the API is down).
  const synced = new Array<boolean>(informers.length).fill(false);
  let stopped = false;
  let index = new Map<string, Repository[]>();
  let byName = new Map<string, Repository>();
  // Rebuilt on the next lookup after a change, not on every watch event: the initial list alone sends
  // one "add" per Repository, and re-indexing on each would parse n² objects at start-up.
  let dirty = true;

  const rebuild = () => {
    dirty = false;
    const next = indexRepositories(informers.flatMap((informer) => informer.list()));
    if (next.invalid.length > 0)
      log.warn({ invalid: next.invalid }, "Repositories that do not parse are ignored");
    index = next.index;
    byName = next.byName;
  };
  const changed = () => {
    dirty = true;
  };
  const backoffs = informers.map(() => 500);
  const errored = informers.map(() => false);

  const run = async (i: number): Promise<void> => {
    const informer = informers[i]!;
    errored[i] = false;
    await informer.start().catch((err: unknown) => onError(i, err));
    if (!errored[i] && !stopped) {
      synced[i] = true;
      backoffs[i] = 500;
      rebuild(); // once per (re)start, so Repositories that do not parse are reported at once
    }
  };
  const onError = (i: number, err: unknown) => {
    errored[i] = true;
    if (stopped) return;
    const delay = backoffs[i]!;
    backoffs[i] = Math.min(delay * 2, 30_000);
    log.warn({ err: (err as Error)?.message, retryInMs: delay }, "Repository watch stopped; restarting");
    setTimeout(() => {
      if (!stopped) void run(i);
    }, delay).unref();
  };
  /** Ready to answer lookups: synced (else 503) and re-indexed after any change. */
  const current = () => {
    if (!synced.every(Boolean)) throw new UnavailableError("Repository cache is not synced yet; try again");
    if (dirty) rebuild();
  };
  informers.forEach((informer, i) => {
    for (const verb of ["add", "update", "delete"] as const) informer.on(verb, changed);
    informer.on("error", (err) => onError(i, err));
  });

  return {
    async start() {
      await Promise.all(informers.map((_, i) => run(i)));
    },
    stop() {
      stopped = true;
      for (const informer of informers) informer.stop().catch(() => {});
    },
    ready: () => synced.every(Boolean),
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
