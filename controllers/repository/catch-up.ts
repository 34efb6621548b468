// Pure: which branch heads no Build covers, so no push is lost even when GitHub's delivery and every
// redelivery failed. A head is built only after it has been seen uncovered for a grace period (the push
// delivery for it may be in flight), and only if it was committed after the Repository existed (a new
// Repository does not build every old branch).
import type { Build, BuildInput } from "../../api/build.ts";
import { buildForCatchUp } from "../../api/new-build.ts";
import type { Repository } from "../../api/repository.ts";
import { branchMatches } from "../../api/repository.ts";

export interface BranchHead {
  name: string;
  sha: string;
}

export interface HeadInfo {
  /** Committer date (ms). */
  committedAt: number;
  message?: string;
  author?: string;
}

export interface CatchUpInput {
  repository: Repository;
  heads: readonly BranchHead[];
  builds: readonly Pick<Build, "spec">[];
  /** When each uncovered sha was first seen uncovered (ms); updated by the caller from `seen`. */
  firstSeen: ReadonlyMap<string, number>;
  info: ReadonlyMap<string, HeadInfo>;
  now: number;
  graceMs: number;
}

export interface CatchUpPlan {
  create: BuildInput[];
  /** Uncovered heads and when they were first seen, to carry into the next pass. */
  seen: Map<string, number>;
  /** Uncovered heads whose commit date is still needed. */
  needInfo: BranchHead[];
}

export function catchUp(input: CatchUpInput): CatchUpPlan {
  const { repository } = input;
  const name = repository.metadata.name;
  const built = new Set(
    input.builds.filter((b) => b.spec.repository === name).map((b) => b.spec.revision.sha),
  );
  const created = Date.parse(repository.metadata.creationTimestamp ?? "") || 0;
  const plan: CatchUpPlan = { create: [], seen: new Map(), needInfo: [] };
  for (const head of input.heads) {
    if (!branchMatches(head.name, repository.spec.branches) || built.has(head.sha)) continue;
    const known = input.info.get(head.sha);
    if (known && known.committedAt < created) continue; // older than the Repository: never built, never waited for
    const key = `${head.name}@${head.sha}`;
    const first = input.firstSeen.get(key) ?? input.now;
    plan.seen.set(key, first);
    if (input.now - first < input.graceMs) continue;
    const info = input.info.get(head.sha);
    if (!info) {
      plan.needInfo.push(head);
      continue;
    }
    if (info.committedAt < created) {
      plan.seen.delete(key);
      continue;
    }
    plan.create.push(buildForCatchUp(repository, head.name, head.sha, info.message, info.author));
  }
  return plan;
}
