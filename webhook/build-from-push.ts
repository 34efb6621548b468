// Pure: what Build (if any) a GitHub event asks for. No I/O, no clock; the name is derived from the
// delivery id, so a redelivered or duplicated delivery names the same Build and cannot make a second.
import type { BuildInput } from "../api/build.ts";
import { buildName, newBuild } from "../api/new-build.ts";
import { branchMatches, type Repository } from "../api/repository.ts";
import type { PullRequestEvent, PushEvent } from "./payloads.ts";

export type Outcome = { kind: "build"; build: BuildInput } | { kind: "ignore"; reason: string };

const ZERO_SHA = /^0{40}$/;
const SHA = /^[0-9a-f]{40}$/;
const PR_ACTIONS = new Set(["opened", "synchronize", "reopened"]);

function enabled(repository: Repository, event: "push" | "pull_request"): boolean {
  return (repository.spec.webhook?.events ?? ["push", "pull_request"]).includes(event);
}

/** The push chain's link: the sha the ref had before (none for a new ref, whose `before` is all zeros). */
function previous(before: string | undefined): { before?: string } {
  return before !== undefined && SHA.test(before) && !ZERO_SHA.test(before) ? { before } : {};
}

/** receivedAt: when the webhook got the delivery (its clock, RFC 3339); orders unlinked pushes. */
export function buildFromPush(
  event: PushEvent,
  repository: Repository,
  deliveryID: string,
  receivedAt?: string,
): Outcome {
  if (!enabled(repository, "push"))
    return { kind: "ignore", reason: "push events are not enabled for this repository" };
  if (event.deleted === true || ZERO_SHA.test(event.after)) {
    return { kind: "ignore", reason: `${event.ref} was deleted; nothing to build` };
  }
  if (!SHA.test(event.after))
    return { kind: "ignore", reason: `"after" is not a commit sha: ${event.after}` };
  let branch: string | undefined;
  let tag: string | undefined;
  if (event.ref.startsWith("refs/heads/")) {
    branch = event.ref.slice("refs/heads/".length);
    if (!branchMatches(branch, repository.spec.branches)) {
      return { kind: "ignore", reason: `branch ${branch} matches none of spec.branches` };
    }
  } else if (event.ref.startsWith("refs/tags/")) {
    tag = event.ref.slice("refs/tags/".length);
    if (!repository.spec.tags) return { kind: "ignore", reason: `tag ${tag} not built: spec.tags is false` };
  } else {
    return { kind: "ignore", reason: `${event.ref} is neither a branch nor a tag` };
  }
  const author = event.head_commit?.author;
  return {
    kind: "build",
    build: newBuild({
      name: buildName(repository.metadata.name ?? "", event.after, `delivery/${deliveryID}`),
      repository,
      revision: {
        sha: event.after,
        ref: event.ref,
        ...(branch !== undefined && { branch }),
        ...(tag !== undefined && { tag }),
        ...previous(event.before),
        ...(event.head_commit?.message !== undefined && { message: event.head_commit.message }),
        ...((author?.name ?? author?.username) !== undefined && { author: author?.name ?? author?.username }),
        ...(event.compare !== undefined && { compareURL: event.compare }),
      },
      trigger: { event: "push", deliveryID, ...(receivedAt !== undefined && { receivedAt }) },
    }),
  };
}

export function buildFromPullRequest(
  event: PullRequestEvent,
  repository: Repository,
  deliveryID: string,
  receivedAt?: string,
): Outcome {
  if (!enabled(repository, "pull_request")) {
    return { kind: "ignore", reason: "pull_request events are not enabled for this repository" };
  }
  if (!PR_ACTIONS.has(event.action)) {
    return { kind: "ignore", reason: `pull_request action "${event.action}" changes no code` };
  }
  const pr = event.pull_request;
  if (!branchMatches(pr.base.ref, repository.spec.branches)) {
    return {
      kind: "ignore",
      reason: `pull request targets ${pr.base.ref}, which matches none of spec.branches`,
    };
  }
  if (!SHA.test(pr.head.sha)) return { kind: "ignore", reason: `head is not a commit sha: ${pr.head.sha}` };
  // A deleted fork (repo null) is still a fork: its code is not the repository's.
  const fork =
    pr.head.repo === null ||
    pr.head.repo.full_name.toLowerCase() !== event.repository.full_name.toLowerCase();
  return {
    kind: "build",
    build: newBuild({
      name: buildName(repository.metadata.name ?? "", pr.head.sha, `delivery/${deliveryID}`),
      repository,
      revision: {
        sha: pr.head.sha,
        ref: `refs/pull/${pr.number}/head`,
        branch: pr.head.ref,
        // A synchronize event names the head it moved from: the same chain as a push's.
        ...previous(event.before),
        ...(pr.title !== undefined && { message: pr.title }),
        ...(pr.user?.login !== undefined && { author: pr.user.login }),
        ...(pr.html_url !== undefined && { compareURL: pr.html_url }),
      },
      trigger: {
        event: "pull_request",
        deliveryID,
        ...(receivedAt !== undefined && { receivedAt }),
        pullRequest: { number: pr.number, fork },
      },
    }),
  };
}
