// The Builds of each repository, kept newest first as they change, so a page of the build list is a slice
// of an array that is already in order (or one pass over it for a filter), never a sort per request. Pure:
// build-index.ts feeds it from the informer.
import { type Build, newestFirst } from "../../api/build.ts";

export const repositoryKey = (namespace: string, repository: string) => `${namespace}/${repository}`;
const keyOf = (b: Build) => repositoryKey(b.metadata.namespace ?? "", b.spec.repository);

export class SortedBuilds {
  readonly #lists = new Map<string, Build[]>();

  /** Adds a Build, or replaces the one of that name (old: the Build as it was, when the caller knows it). */
  upsert(build: Build, old?: Build): void {
    if (old) this.remove(old);
    const list = this.#lists.get(keyOf(build)) ?? [];
    if (list.length === 0) this.#lists.set(keyOf(build), list);
    const at = position(list, build);
    // A Build of that name already there (an old that was not told): replace it in place.
    if (list[at] && sameBuild(list[at], build)) list[at] = build;
    else list.splice(at, 0, build);
  }

  remove(build: Build): void {
    const key = keyOf(build);
    const list = this.#lists.get(key);
    if (!list) return;
    const at = position(list, build);
    if (list[at] && sameBuild(list[at], build)) list.splice(at, 1);
    if (list.length === 0) this.#lists.delete(key);
  }

  /** The repository's Builds, newest first (the array itself: callers slice it, never change it). */
  of(namespace: string, repository: string): readonly Build[] {
    return this.#lists.get(repositoryKey(namespace, repository)) ?? [];
  }

  /** Repositories of a namespace that have Builds, by name. */
  repositories(namespace: string): string[] {
    const prefix = `${namespace}/`;
    return [...this.#lists.keys()]
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length))
      .sort();
  }
}

const sameBuild = (a: Build, b: Build) =>
  a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace;

/** Where `build` is or belongs in a newest-first list: binary search on (creationTimestamp, name), which never change. */
function position(list: readonly Build[], build: Build): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const item = list[mid]!;
    if (sameBuild(item, build)) return mid;
    if (newestFirst(item, build) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
