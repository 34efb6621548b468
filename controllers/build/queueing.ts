// Per-repository queueing rules as pure functions over the Repository's builds: concurrency (first come,
// first served), cancelSuperseded (a newer build of the same branch cancels the older one) and
// history.keep (finished builds beyond it are deleted).
import { type Build, isFinished } from "../../api/build.ts";
import { ANNOTATIONS } from "../../api/group.ts";
import type { Repository } from "../../api/repository.ts";

/** Oldest first: by creation time, then name, so every replica orders alike. */
export function byAge(a: Build, b: Build): number {
  const ta = a.metadata.creationTimestamp ?? "";
  const tb = b.metadata.creationTimestamp ?? "";
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1;
}

function branchOf(build: Build): string | undefined {
  return build.spec.revision.branch;
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
  let newest: Build | undefined;
  for (const other of siblings) {
    if (other.metadata.name === build.metadata.name || branchOf(other) !== branch) continue;
    // A build someone cancelled by hand supersedes nothing.
    if (other.spec.cancel || other.status?.reason === "Superseded") continue;
    if (byAge(build, other) < 0 && (newest === undefined || byAge(newest, other) < 0)) newest = other;
  }
  return newest;
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
  let running = 0;
  const waiting: Build[] = [];
  for (const b of unfinished) {
    if (b.metadata.name === build.metadata.name) continue;
    if (active(b)) running++;
    // Builds waiting for an approval hold no place in the line: they are not ready to run.
    else if (!supersededBy(b, unfinished, repository) && !b.spec.cancel && !awaitsApproval(b, repository))
      waiting.push(b);
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
