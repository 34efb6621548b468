// What the webhook server needs from the outside, as interfaces, so the app is tested without a cluster
// and the bench can swap Build creation for a no-op sink.
import type { BuildInput } from "../api/build.ts";
import type { Repository } from "../api/repository.ts";
import type { Logger } from "../lib/log.ts";
import type { PageDeps } from "./page/page-routes.ts";

export interface RepositoryLookup {
  /** Repositories watching GitHub's owner/name (case-insensitive). Throws UnavailableError until synced. */
  find(owner: string, name: string): Repository[];
  /** The Repository of that namespace and name (a hook registered by Kiln names it). Throws like find. */
  named(namespace: string, name: string): Repository | undefined;
  ready(): boolean;
}

export interface SecretSource {
  /** The webhook secrets a delivery for this Repository may be signed with (current first). */
  webhookSecrets(repository: Repository, options?: { fresh?: boolean }): Promise<string[]>;
}

export interface BuildSink {
  /** "exists" when a Build of that name is already there (a redelivery). Throws UnavailableError when the API is down. */
  create(build: BuildInput): Promise<"created" | "exists">;
}

export interface WebhookDeps {
  repositories: RepositoryLookup;
  secrets: SecretSource;
  builds: BuildSink;
  log: Logger;
  maxBodyBytes: number;
  /** The build pages (page/page-routes.ts), when served: the Builds, the store, who may read. */
  page?: Omit<PageDeps, "repositories" | "log">;
  /** The clock that stamps when a delivery arrived (a Build's spec.trigger.receivedAt); Date.now by default. */
  now?: () => number;
}
