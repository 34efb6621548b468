// Which saved cache a restore gets. Pure; shared by `kiln store` and `kiln run`'s local cache.
//
// The client sends the full key (say `npm-<hash of package-lock.json>`), fallback prefixes (`npm-`) and the
// branches to look on, in order (the Build's branch, then the default branch). On each branch in turn: the
// exact key; else, for each prefix in turn, the newest cache whose key starts with it. The first hit wins,
// so a stale cache of the build's own branch beats an exact one of the default branch, as GitHub's
// actions/cache does.

export interface SavedCache {
  branch: string;
  key: string;
  /** When it was saved (ms since the epoch). */
  created: number;
  size: number;
}

export interface CacheQuery {
  key: string;
  prefixes: readonly string[];
  branches: readonly string[];
}

export interface CacheChoice<C extends SavedCache> {
  cache: C;
  exact: boolean;
}

export function chooseCache<C extends SavedCache>(
  caches: readonly C[],
  query: CacheQuery,
): CacheChoice<C> | undefined {
  for (const branch of query.branches) {
    const here = caches.filter((c) => c.branch === branch);
    const exact = here.find((c) => c.key === query.key);
    if (exact) return { cache: exact, exact: true };
    for (const prefix of query.prefixes) {
      const newest = here
        .filter((c) => c.key.startsWith(prefix))
        // Newest first; the same second (S3 times have seconds only) goes to the greater key.
        .sort((a, b) => b.created - a.created || (a.key < b.key ? 1 : -1))[0];
      if (newest) return { cache: newest, exact: false };
    }
  }
  return undefined;
}
