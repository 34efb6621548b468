// The one way Kiln talks to GitHub: Octokit with the throttling plugin (primary and secondary rate
// limits: waits as GitHub asks, writes spaced out) and the retry plugin (5xx, network), the GitHub
// Enterprise API root when a Repository names one, the token trimmed (a Secret's value often ends in a
// newline), and one client per API root and token, cached, so the rate-limit state carries across calls.
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import type { Logger } from "./log.ts";

export const GitHubOctokit = Octokit.plugin(throttling, retry);
export type GitHubClient = InstanceType<typeof GitHubOctokit>;

export interface GitHubEndpoint {
  /** API root; https://api.github.com when absent, https://ghe.example/api/v3 for Enterprise. */
  baseUrl?: string;
  token?: string;
}

export interface GitHubClientOptions {
  log: Logger;
  userAgent?: string;
  /** How often a rate-limited request is retried after waiting; default 2. */
  rateLimitRetries?: number;
  /** Milliseconds per second of retry-after (default 1000); tests make waits short. */
  retryAfterBaseValue?: number;
  /** The retry plugin's retries of 5xx and network errors; default 3. */
  retries?: number;
  /** Spacing of writes: GitHub asks for about a second between content-creating requests (the default). */
  writeSpacingMs?: number;
}

/** Refusals retrying cannot fix; 429 is the throttling plugin's, not the retry plugin's. */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

export function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown })?.status;
  return typeof status === "number" ? status : undefined;
}

export class GitHubClients {
  readonly #options: GitHubClientOptions;
  readonly #clients = new Map<string, GitHubClient>();
  readonly #writes: Bottleneck.Group | undefined;

  constructor(options: GitHubClientOptions) {
    this.#options = options;
    this.#writes =
      options.writeSpacingMs === undefined
        ? undefined
        : new Bottleneck.Group({ maxConcurrent: 1, minTime: options.writeSpacingMs });
  }

  /** The client for this API root and token (made once). */
  for(endpoint: GitHubEndpoint): GitHubClient {
    const token = endpoint.token?.trim() || undefined;
    const baseUrl = endpoint.baseUrl?.replace(/\/+$/, "") || undefined;
    const key = `${baseUrl ?? ""}\n${token ?? ""}`;
    let client = this.#clients.get(key);
    if (!client) {
      client = this.#make(baseUrl, token);
      this.#clients.set(key, client);
    }
    return client;
  }

  #make(baseUrl: string | undefined, token: string | undefined): GitHubClient {
    const o = this.#options;
    const log = o.log.child({ baseUrl: baseUrl ?? "https://api.github.com" });
    const retries = o.rateLimitRetries ?? 2;
    return new GitHubOctokit({
      ...(token ? { auth: token } : {}),
      ...(baseUrl ? { baseUrl } : {}),
      userAgent: o.userAgent ?? "kiln",
      log: {
        debug: () => undefined,
        info: () => undefined,
        warn: (message: string) => log.warn(message),
        error: (message: string) => log.error(message),
      },
      retry: { retries: o.retries ?? 3, doNotRetry: DO_NOT_RETRY },
      throttle: {
        ...(this.#writes ? { write: this.#writes } : {}),
        ...(o.retryAfterBaseValue !== undefined ? { retryAfterBaseValue: o.retryAfterBaseValue } : {}),
        onRateLimit: (retryAfter: number, request: { url?: string }, _o: unknown, retryCount: number) => {
          log.warn({ retryAfter, url: request.url, retryCount }, "GitHub rate limit reached");
          return retryCount < retries;
        },
        onSecondaryRateLimit: (
          retryAfter: number,
          request: { url?: string },
          _o: unknown,
          retryCount: number,
        ) => {
          log.warn({ retryAfter, url: request.url, retryCount }, "GitHub secondary rate limit reached");
          return retryCount < retries;
        },
      },
    });
  }
}
