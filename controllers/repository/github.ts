// The GitHub calls the repository controller makes, through Octokit with the throttling plugin
// (primary and secondary rate limits, waiting as GitHub asks) and the retry plugin (5xx, network).
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import type { Logger } from "../../lib/log.ts";
import type { BranchHead, HeadInfo } from "./catch-up.ts";
import type { DesiredHook, ExistingHook } from "./desired-hook.ts";
import type { DeliveryItem } from "./redeliver.ts";

export interface RepoGitHub {
  listHooks(): Promise<ExistingHook[]>;
  createHook(hook: DesiredHook): Promise<ExistingHook>;
  updateHook(id: number, hook: DesiredHook): Promise<void>;
  /** Resolves false when the hook was already gone (404). */
  deleteHook(id: number): Promise<boolean>;
  listDeliveries(hookID: number): Promise<DeliveryItem[]>;
  redeliver(hookID: number, deliveryID: number): Promise<void>;
  /** The event and payload GitHub sent in a delivery. */
  deliveryPayload(hookID: number, deliveryID: number): Promise<{ event: string; payload: unknown }>;
  listBranches(): Promise<BranchHead[]>;
  headInfo(sha: string): Promise<HeadInfo>;
}

export interface GitHubTarget {
  owner: string;
  repo: string;
  token: string;
  /** API root; https://api.github.com when absent. */
  baseUrl?: string;
}

export interface GitHubClientOptions {
  log: Logger;
  /** How often a rate-limited request is retried after waiting; default 2. */
  rateLimitRetries?: number;
  /** Tests make waits short: milliseconds per retry-after second (default 1000). */
  retryAfterBaseValue?: number;
  /** Retry plugin's retries for 5xx/network errors; default 3. */
  retries?: number;
  /** Spacing of writes (GitHub asks for about 1 s; the plugin's default). Tests make it small. */
  writeSpacingMs?: number;
}

const KilnOctokit = Octokit.plugin(throttling, retry);
const writeGroups = new Map<number, Bottleneck.Group>();

function writeGroup(spacingMs: number): Bottleneck.Group {
  let group = writeGroups.get(spacingMs);
  if (!group) {
    group = new Bottleneck.Group({
      id: `kiln-repository-write-${spacingMs}`,
      maxConcurrent: 1,
      minTime: spacingMs,
    });
    writeGroups.set(spacingMs, group);
  }
  return group;
}

export function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown })?.status;
  return typeof status === "number" ? status : undefined;
}

export function gitHubClient(target: GitHubTarget, options: GitHubClientOptions): RepoGitHub {
  const log = options.log;
  const rateLimitRetries = options.rateLimitRetries ?? 2;
  const octokit = new KilnOctokit({
    auth: target.token,
    userAgent: "kiln-repository-controller",
    ...(target.baseUrl && { baseUrl: target.baseUrl.replace(/\/+$/, "") }),
    log: {
      debug: () => {},
      info: () => {},
      warn: (m: string) => log.warn(m),
      error: (m: string) => log.error(m),
    },
    retry: { retries: options.retries ?? 3, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
    throttle: {
      ...(options.writeSpacingMs !== undefined && { write: writeGroup(options.writeSpacingMs) }),
      ...(options.retryAfterBaseValue !== undefined && { retryAfterBaseValue: options.retryAfterBaseValue }),
      onRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) => {
        log.warn({ retryAfter, retryCount }, "GitHub rate limit reached");
        return retryCount < rateLimitRetries;
      },
      onSecondaryRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) => {
        log.warn({ retryAfter, retryCount }, "GitHub secondary rate limit reached");
        return retryCount < rateLimitRetries;
      },
    },
  });
  const repo = { owner: target.owner, repo: target.repo };
  const body = (hook: DesiredHook) => ({
    config: {
      url: hook.url,
      content_type: hook.content_type,
      insecure_ssl: hook.insecure_ssl,
      secret: hook.secret,
    },
    events: hook.events,
    active: hook.active,
  });
  return {
    async listHooks() {
      const hooks = await octokit.paginate(octokit.repos.listWebhooks, { ...repo, per_page: 100 });
      return hooks.map((h) => ({ id: h.id, active: h.active, events: h.events, config: h.config }));
    },
    async createHook(hook) {
      const { data } = await octokit.repos.createWebhook({ ...repo, name: "web", ...body(hook) });
      return { id: data.id, active: data.active, events: data.events, config: data.config };
    },
    async updateHook(id, hook) {
      await octokit.repos.updateWebhook({ ...repo, hook_id: id, ...body(hook) });
    },
    async deleteHook(id) {
      try {
        await octokit.repos.deleteWebhook({ ...repo, hook_id: id });
        return true;
      } catch (err) {
        if (statusOf(err) === 404) return false;
        throw err;
      }
    },
    async listDeliveries(hookID) {
      const { data } = await octokit.repos.listWebhookDeliveries({ ...repo, hook_id: hookID, per_page: 100 });
      return data.map((d) => ({
        id: d.id,
        guid: d.guid,
        delivered_at: d.delivered_at,
        redelivery: d.redelivery,
        status_code: d.status_code,
      }));
    },
    async redeliver(hookID, deliveryID) {
      await octokit.repos.redeliverWebhookDelivery({ ...repo, hook_id: hookID, delivery_id: deliveryID });
    },
    async deliveryPayload(hookID, deliveryID) {
      const { data } = await octokit.repos.getWebhookDelivery({
        ...repo,
        hook_id: hookID,
        delivery_id: deliveryID,
      });
      return { event: data.event, payload: data.request.payload };
    },
    async listBranches() {
      const branches = await octokit.paginate(octokit.repos.listBranches, { ...repo, per_page: 100 });
      return branches.map((b) => ({ name: b.name, sha: b.commit.sha }));
    },
    async headInfo(sha) {
      const { data } = await octokit.repos.getCommit({ ...repo, ref: sha });
      const committed = data.commit.committer?.date ?? data.commit.author?.date;
      return {
        committedAt: committed ? Date.parse(committed) : 0,
        message: data.commit.message,
        ...(data.commit.author?.name && { author: data.commit.author.name }),
      };
    },
  };
}
