// GitHub commit statuses through Octokit, with the throttling plugin (primary and secondary rate
// limits: waits as GitHub asks, spaces out writes) and the retry plugin (5xx and network errors).
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import type { GitHubState } from "../../api/build.ts";
import type { Logger } from "../../lib/log.ts";

export interface CommitStatus {
  state: GitHubState;
  description: string;
  targetURL?: string;
  context: string;
}

export interface StatusTarget {
  owner: string;
  repo: string;
  sha: string;
  /** GitHub API root; api.github.com when absent, https://ghe.example/api/v3 for Enterprise. */
  baseUrl?: string;
  token?: string;
}

export interface GitHubStatuses {
  post(target: StatusTarget, status: CommitStatus): Promise<void>;
  /** Whether the newest status of this context on the commit already is this one. */
  shows(target: StatusTarget, status: CommitStatus): Promise<boolean>;
}

export interface GitHubStatusOptions {
  log: Logger;
  /** Rate-limit waits GitHub asks for, retried this many times before giving up. */
  rateLimitRetries?: number;
  /** Milliseconds per second of retry-after; tests make it small. */
  retryAfterBaseValue?: number;
  userAgent?: string;
  /** Spacing of writes; GitHub asks for one second between content-creating requests (the default). */
  writeSpacingMs?: number;
}

const KilnOctokit = Octokit.plugin(throttling, retry);
type Client = InstanceType<typeof KilnOctokit>;

export function createGitHubStatuses(options: GitHubStatusOptions): GitHubStatuses {
  const clients = new Map<string, Client>();
  const retries = options.rateLimitRetries ?? 3;
  const write =
    options.writeSpacingMs === undefined
      ? undefined
      : new Bottleneck.Group({ id: "kiln-write", maxConcurrent: 1, minTime: options.writeSpacingMs });
  const client = (target: StatusTarget): Client => {
    const key = `${target.baseUrl ?? ""}\n${target.token ?? ""}`;
    let octokit = clients.get(key);
    if (!octokit) {
      const log = options.log.child({ baseUrl: target.baseUrl ?? "https://api.github.com" });
      octokit = new KilnOctokit({
        ...(target.token ? { auth: target.token } : {}),
        ...(target.baseUrl ? { baseUrl: target.baseUrl.replace(/\/+$/, "") } : {}),
        userAgent: options.userAgent ?? "kiln",
        log: {
          debug: () => undefined,
          info: () => undefined,
          warn: (message: string) => log.warn(message),
          error: (message: string) => log.error(message),
        },
        throttle: {
          ...(write ? { write } : {}),
          ...(options.retryAfterBaseValue ? { retryAfterBaseValue: options.retryAfterBaseValue } : {}),
          onRateLimit: (retryAfter, request, _octokit, retryCount) => {
            log.warn({ retryAfter, url: request.url, retryCount }, "GitHub rate limit reached");
            return retryCount < retries;
          },
          onSecondaryRateLimit: (retryAfter, request, _octokit, retryCount) => {
            log.warn({ retryAfter, url: request.url, retryCount }, "GitHub secondary rate limit reached");
            return retryCount < retries;
          },
        },
        retry: { doNotRetry: [400, 401, 403, 404, 410, 422, 451] },
      });
      clients.set(key, octokit);
    }
    return octokit;
  };

  return {
    async post(target, status) {
      await client(target).rest.repos.createCommitStatus({
        owner: target.owner,
        repo: target.repo,
        sha: target.sha,
        state: status.state,
        description: status.description,
        context: status.context,
        ...(status.targetURL ? { target_url: status.targetURL } : {}),
      });
    },
    async shows(target, status) {
      const { data } = await client(target).rest.repos.listCommitStatusesForRef({
        owner: target.owner,
        repo: target.repo,
        ref: target.sha,
        per_page: 100,
      });
      // Newest first: only the newest of our context counts.
      const newest = data.find((entry) => entry.context === status.context);
      return (
        newest !== undefined &&
        newest.state === status.state &&
        (newest.description ?? "") === status.description &&
        (newest.target_url ?? undefined) === status.targetURL
      );
    },
  };
}
