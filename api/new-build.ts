// The one Build constructor: every Build Kiln makes — for a push or pull request (the webhook), for a
// branch head a lost push left without one (the repository controller's catch-up), for a rerun asked
// for in the chat — is made here, named and labelled the same way.
import { createHash, randomBytes } from "node:crypto";
import type { Build, BuildInput } from "./build.ts";
import { ANNOTATIONS, API_VERSION, LABELS } from "./group.ts";
import type { Repository } from "./repository.ts";

const MAX_LABEL = 63;

function digest(seed: string): string {
  return createHash("sha256").update(seed).digest("hex");
}

/**
 * A label value (at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends) standing for text:
 * the text itself when it is one, else a readable head and a hash of the whole, so two long branch names
 * never share a label.
 */
export function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  if (cleaned === text && text.length <= MAX_LABEL) return text;
  const hash = digest(text).slice(0, 10);
  const head = cleaned.slice(0, MAX_LABEL - 11).replace(/[^A-Za-z0-9]+$/, "");
  return head ? `${head}-${hash}` : hash;
}

const namePrefix = (repository: string) =>
  repository
    .slice(0, 40)
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/-+$/, "");

/** `<repository>-<short sha>-<6 hex of the seed>`: readable, at most 55 characters, a valid DNS label. */
export function buildName(repository: string, sha: string, seed: string): string {
  return `${namePrefix(repository)}-${sha.slice(0, 7)}-${digest(seed).slice(0, 6)}`;
}

/**
 * The name of a Build asked for by hand (a rerun from the chat, `kiln build`, `kiln rerun`):
 * `<repository>-<short sha>-manual-<6 random hex>`, another each time, at most 62 characters.
 */
export function manualBuildName(
  repository: string,
  sha: string,
  nonce = randomBytes(3).toString("hex"),
): string {
  return `${namePrefix(repository)}-${sha.slice(0, 7)}-manual-${nonce}`;
}

/** Kiln's labels of a Build, from its spec: the same whoever wrote it. */
export function labelsOf(spec: Pick<BuildInput["spec"], "repository" | "revision">): Record<string, string> {
  const { revision } = spec;
  return {
    [LABELS.repository]: labelValue(spec.repository),
    [LABELS.branch]: labelValue(revision.branch ?? revision.tag ?? ""),
    [LABELS.commit]: revision.sha.slice(0, 7),
  };
}

/**
 * The labels a Build lacks (or has wrong) of those its spec gives, or undefined when it has them all: a
 * Build written by hand has none, and the build controller adds them. A printer column cannot shorten the
 * sha, so the COMMIT column of `kubectl get builds` is the commit label; and `-l kiln.dev/repository=api`
 * then finds every Build of api, hand-made or not.
 */
export function labelsToMend(
  build: Pick<BuildInput, "metadata" | "spec">,
): Record<string, string> | undefined {
  const have = build.metadata.labels ?? {};
  const missing = Object.entries(labelsOf(build.spec)).filter(([key, value]) => have[key] !== value);
  return missing.length === 0 ? undefined : Object.fromEntries(missing);
}

export interface NewBuild {
  name: string;
  repository: Repository;
  revision: BuildInput["spec"]["revision"];
  trigger: BuildInput["spec"]["trigger"];
  annotations?: Record<string, string>;
  /** Carried over from the Build a rerun repeats. */
  spec?: Partial<Pick<BuildInput["spec"], "pauseOnFailure" | "timeout">>;
}

export function newBuild({ name, repository, revision, trigger, annotations, spec }: NewBuild): BuildInput {
  const repoName = repository.metadata.name ?? "";
  return {
    apiVersion: API_VERSION,
    kind: "Build",
    metadata: {
      name,
      namespace: repository.metadata.namespace,
      labels: labelsOf({ repository: repoName, revision }),
      ...(annotations && { annotations }),
    },
    spec: { repository: repoName, revision, trigger, ...spec },
  };
}

/** The catch-up Build for a branch head that no Build covers; same head → same name, so catch-ups never duplicate. */
export function buildForCatchUp(
  repository: Repository,
  branch: string,
  sha: string,
  message?: string,
  author?: string,
): BuildInput {
  return newBuild({
    name: buildName(repository.metadata.name ?? "", sha, `catch-up/refs/heads/${branch}/${sha}`),
    repository,
    revision: {
      sha,
      ref: `refs/heads/${branch}`,
      branch,
      ...(message !== undefined && { message }),
      ...(author !== undefined && { author }),
    },
    trigger: { event: "catch-up" },
  });
}

/**
 * A new Build of the same commit, asked for by hand. A pull request's build stays one (a fork's still gets
 * no secrets); an admin asking for it approves it at the same time.
 */
export function rerunOf(
  original: Build,
  repository: Repository,
  name: string,
  requestedBy: string,
  approve = false,
): BuildInput {
  const pullRequest = original.spec.trigger.pullRequest;
  return newBuild({
    name,
    repository,
    revision: structuredClone(original.spec.revision),
    trigger: { event: "manual", ...(pullRequest ? { pullRequest: structuredClone(pullRequest) } : {}) },
    annotations: {
      [ANNOTATIONS.rebuildOf]: original.metadata.name ?? "",
      [ANNOTATIONS.requestedBy]: requestedBy,
      ...(approve && pullRequest?.fork ? { [ANNOTATIONS.approvedBy]: requestedBy } : {}),
    },
    spec: { pauseOnFailure: original.spec.pauseOnFailure, timeout: original.spec.timeout },
  });
}
