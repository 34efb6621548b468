// Which Build a person means by what they typed, in this order: its name; a repository's name (its newest
// build, so `kiln logs -f api` follows the build of the push just made); the start of one Build's name;
// the start of a commit sha (at least 4 hex digits: that commit's newest build). Pure.
import { type Build, newestFirst } from "../api/build.ts";

export type Resolution = { build: Build } | { error: string };

const MIN_SHA = 4;

export function resolveBuild(query: string, builds: readonly Build[], namespace: string): Resolution {
  const exact = builds.find((b) => b.metadata.name === query);
  if (exact) return { build: exact };
  const sorted = [...builds].sort(newestFirst);
  const ofRepository = sorted.find((b) => b.spec.repository === query);
  if (ofRepository) return { build: ofRepository };
  const named = sorted.filter((b) => b.metadata.name?.startsWith(query));
  if (named.length === 1) return { build: named[0]! };
  if (named.length > 1) {
    const shown = named.slice(0, 5).map((b) => b.metadata.name);
    const more = named.length > 5 ? `, and ${named.length - 5} more` : "";
    return { error: `"${query}" could be any of ${named.length} builds: ${shown.join(", ")}${more}` };
  }
  if (query.length >= MIN_SHA && /^[0-9a-f]+$/.test(query)) {
    const ofCommit = sorted.find((b) => b.spec.revision.sha.startsWith(query));
    if (ofCommit) return { build: ofCommit };
  }
  return {
    error: `no build "${query}" in namespace ${namespace} (nor a repository, a build name or a commit it starts): kiln get lists them`,
  };
}
