// Cache indexes of the Build informer: a repository's unfinished and finished builds, without scanning all.
import { type Build, isFinished } from "../../api/build.ts";
import type { Informer } from "../../lib/runtime/informer.ts";

export const ACTIVE_BY_REPOSITORY = "activeByRepository";
export const FINISHED_BY_REPOSITORY = "finishedByRepository";

export function repositoryIndexKey(build: Build): string {
  return `${build.metadata.namespace}/${build.spec.repository}`;
}

export function addBuildIndexes(builds: Informer<Build>): void {
  builds.addIndex(ACTIVE_BY_REPOSITORY, (b) => (isFinished(b.status?.phase) ? [] : [repositoryIndexKey(b)]));
  builds.addIndex(FINISHED_BY_REPOSITORY, (b) =>
    isFinished(b.status?.phase) ? [repositoryIndexKey(b)] : [],
  );
}
