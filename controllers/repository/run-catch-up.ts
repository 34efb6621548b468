// Compares the head of each watched branch on GitHub with the Repository's Builds and creates a
// `catch-up` Build for any head that none covers (see catch-up.ts for when).
import type { Repository } from "../../api/repository.ts";
import { catchUp, type HeadInfo } from "./catch-up.ts";
import type { RepositoryDeps, RepositoryMemory } from "./deps.ts";
import type { RepoGitHub } from "./github.ts";

const infoCache = new Map<string, HeadInfo>(); // commits never change: safe to share and keep

export async function runCatchUp(
  repository: Repository,
  gh: RepoGitHub,
  deps: RepositoryDeps,
  memory: RepositoryMemory,
): Promise<string[]> {
  const namespace = repository.metadata.namespace ?? "default";
  const heads = await gh.listBranches();
  const input = {
    repository,
    heads,
    builds: deps.listBuilds(namespace, repository.metadata.name!),
    firstSeen: memory.firstSeen,
    info: infoCache,
    now: deps.now(),
    graceMs: deps.graceMs,
  };
  let plan = catchUp(input);
  if (plan.needInfo.length > 0) {
    for (const head of plan.needInfo) infoCache.set(head.sha, await gh.headInfo(head.sha));
    plan = catchUp(input);
  }
  memory.firstSeen = plan.seen;
  const created: string[] = [];
  for (const build of plan.create) {
    const outcome = await deps.createBuild(build);
    if (outcome === "created") created.push(build.metadata.name!);
    deps.log.info(
      { namespace, build: build.metadata.name, sha: build.spec.revision.sha, outcome },
      "catch-up build",
    );
  }
  return created;
}
