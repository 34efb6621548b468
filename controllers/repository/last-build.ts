// Pure: the newest Build of a repository, for Repository.status.lastBuild (the LAST BUILD column).
import type { Build } from "../../api/build.ts";

/** Newest by creation time; creationTimestamp has one-second resolution, so ties go to the later name. */
export function newestBuild(builds: readonly Pick<Build, "metadata">[]): string | undefined {
  let newest: Pick<Build, "metadata"> | undefined;
  for (const build of builds) {
    if (!newest || compare(build, newest) > 0) newest = build;
  }
  return newest?.metadata.name;
}

function compare(a: Pick<Build, "metadata">, b: Pick<Build, "metadata">): number {
  const at = a.metadata.creationTimestamp ?? "";
  const bt = b.metadata.creationTimestamp ?? "";
  if (at !== bt) return at < bt ? -1 : 1;
  return (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");
}
