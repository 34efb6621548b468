// GitHub commit statuses through the one GitHub client (lib/github.ts: rate limits waited out, writes
// spaced, 5xx and network errors retried).
import type { GitHubState } from "../../api/build.ts";
import { type GitHubClientOptions, GitHubClients } from "../../lib/github.ts";

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

export type GitHubStatusOptions = GitHubClientOptions;

export function createGitHubStatuses(options: GitHubStatusOptions): GitHubStatuses {
  const clients = new GitHubClients({ rateLimitRetries: 3, ...options });
  const client = (target: StatusTarget) =>
    clients.for({
      ...(target.baseUrl ? { baseUrl: target.baseUrl } : {}),
      ...(target.token ? { token: target.token } : {}),
    });

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
