// What the repository reconciler reads and writes, as an interface: the informer caches, the few
// Kubernetes writes, a GitHub client per repository, the clock.
import type { Build, BuildInput } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import type { Logger } from "../../lib/log.ts";
import type { GitHubTarget, RepoGitHub } from "./github.ts";

export interface RepositoryDeps {
  getRepository(namespace: string, name: string): Repository | undefined;
  listBuilds(namespace: string, repository: string): Build[];
  readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined>;
  /** JSON merge patch of metadata, conditional on metadata.resourceVersion (409 on conflict). */
  patchMetadata(namespace: string, name: string, metadata: Record<string, unknown>): Promise<Repository>;
  /** JSON merge patch of /status, conditional on resourceVersion. */
  patchStatus(
    namespace: string,
    name: string,
    resourceVersion: string | undefined,
    status: Record<string, unknown>,
  ): Promise<void>;
  createBuild(build: BuildInput): Promise<"created" | "exists">;
  gitHub(target: GitHubTarget): RepoGitHub;
  now(): number;
  log: Logger;
  /** Where GitHub delivers to when spec.webhook.url is not set (the webhook server's public URL). */
  webhookURL?: string;
  /** GitHub API root when spec.github.apiURL is not set. */
  apiURL?: string;
  /** How often each Repository is looked at again (redeliveries, catch-up). */
  intervalMs: number;
  /** How long a branch head may stay without a Build before catch-up builds it. */
  graceMs: number;
}

/** What the reconciler remembers between passes; losing it (a restart) is safe, only slower. */
export interface RepositoryMemory {
  redelivered: Set<string>;
  firstSeen: Map<string, number>;
  token?: string;
}

export function memoryFor(memories: Map<string, RepositoryMemory>, key: string): RepositoryMemory {
  let memory = memories.get(key);
  if (!memory) {
    memory = { redelivered: new Set(), firstSeen: new Map() };
    memories.set(key, memory);
  }
  return memory;
}
