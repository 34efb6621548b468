// Per-repository queueing rules as pure functions over the Repository's builds: concurrency (first come,
// first served), cancelSuperseded (a newer push to a branch cancels the older one, in push order) and
// history.keep (finished builds beyond it are deleted).
import { type Build, byAge, isFinished, revisionRef } from "../../api/build.ts";
import { ANNOTATIONS } from "../../api/group.ts";
import type { Repository } from "../../api/repository.ts";
import { pushOrder } from "./push-order.ts";

/**
 * What supersedes what: builds of one branch's ref (refs/heads/<branch>), or of one pull request
 * (refs/pull/<n>/head). By the ref, not the branch name: a fork's pull request from a branch called
 * main is not a push to main. Tag builds (no branch) supersede nothing.
 */
function branchOf(build: Build): string | undefined {
  if (build.spec.revision.branch === undefined) return undefined;
  return revisionRef(build.spec.revision);
}

/** A build someone cancelled by hand, or one already superseded, supersedes nothing. */
const supersedes = (b: Build) => !b.spec.cancel && b.status?.reason !== "Superseded";

/**
 * For each of the given builds of a branch that a newer one supersedes, that newer one: the newest that
 * may supersede, in push order (push-order.ts). Tag builds (no branch) supersede nothing.
 */
function supersededIn(sameBranch: readonly Build[], into: Map<Build, Build>): void {
  const order = pushOrder(sameBranch);
  let newest = order.length - 1;
  while (newest >= 0 && !supersedes(order[newest]!)) newest--;
  for (let i = 0; i < newest; i++) {
    if (!isFinished(order[i]!.status?.phase)) into.set(order[i]!, order[newest]!);
  }
}

/** Every unfinished build that a newer build of its branch supersedes, with the one that does. */
export function supersededAll(unfinished: readonly Build[], repository: Repository): Map<Build, Build> {
  const out = new Map<Build, Build>();
  if (!repository.spec.cancelSuperseded) return out;
  const byBranch = new Map<string, Build[]>();
  for (const b of unfinished) {
    const branch = branchOf(b);
    if (branch === undefined) continue;
    const list = byBranch.get(branch) ?? [];
    list.push(b);
    byBranch.set(branch, list);
  }
  for (const list of byBranch.values()) supersededIn(list, out);
  return out;
}

/** The newer build of the same branch that supersedes this one, if the repository wants that. */
export function supersededBy(
  build: Build,
  siblings: readonly Build[],
  repository: Repository,
): Build | undefined {
  if (!repository.spec.cancelSuperseded || isFinished(build.status?.phase)) return undefined;
  const branch = branchOf(build);
  if (branch === undefined) return undefined;
  const same = siblings.filter((b) => b.metadata.name !== build.metadata.name && branchOf(b) === branch);
  const out = new Map<Build, Build>();
  supersededIn([build, ...same], out);
  return out.get(build);
}

/**
 * A pull request from a fork runs someone else's code in the cluster: it waits for an admin's approval
 * (the kiln.dev/approved-by annotation, /approve in the chat) unless the Repository turns that off.
 */
export function awaitsApproval(build: Build, repository: Repository): boolean {
  return (
    build.spec.trigger.pullRequest?.fork === true &&
    repository.spec.approveForks &&
    !build.metadata.annotations?.[ANNOTATIONS.approvedBy]
  );
}

export function approvalMessage(build: Build): string {
  const name = build.metadata.name;
  const pr = build.spec.trigger.pullRequest?.number;
  return (
    `pull request #${pr} comes from a fork: it builds once an admin approves it ` +
    `(/approve ${name} in the chat, or kubectl annotate build ${name} -n ${build.metadata.namespace} ${ANNOTATIONS.approvedBy}=<you>)`
  );
}

export type Admission = { run: true } | { run: false; message: string };

/**
 * Whether an unfinished build without a pod may start now. active(b) says whether b already holds a slot
 * (it has, or is getting, a pod); the rest wait in age order for the repository's concurrency slots.
 */
export function admit(
  build: Build,
  unfinished: readonly Build[],
  repository: Repository,
  active: (b: Build) => boolean,
): Admission {
  const limit = repository.spec.concurrency;
  const superseded = supersededAll(unfinished, repository);
  let running = 0;
  const waiting: Build[] = [];
  for (const b of unfinished) {
    if (b.metadata.name === build.metadata.name) continue;
    if (active(b)) running++;
    // Builds waiting for an approval hold no place in the line: they are not ready to run.
    else if (!superseded.has(b) && !b.spec.cancel && !awaitsApproval(b, repository)) waiting.push(b);
  }
  const ahead = waiting.filter((b) => byAge(b, build) < 0).length;
  if (running + ahead < limit) return { run: true };
  return {
    run: false,
    message: `waiting for a slot: ${running} of ${limit} running, ${ahead} queued ahead`,
  };
}

/** Finished builds to delete so that at most history.keep remain (oldest completions go first). */
export function beyondHistory(finished: readonly Build[], repository: Repository): Build[] {
  const keep = repository.spec.history.keep;
  if (finished.length <= keep) return [];
  const newestFirst = [...finished].sort((a, b) => {
    const ca = a.status?.completionTime ?? a.metadata.creationTimestamp ?? "";
    const cb = b.status?.completionTime ?? b.metadata.creationTimestamp ?? "";
    if (ca !== cb) return ca < cb ? 1 : -1;
    return -byAge(a, b);
  });
  return newestFirst.slice(keep);
}
