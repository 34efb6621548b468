// The GitHub calls the repository controller makes, through the one GitHub client (lib/github.ts:
// rate limits waited out as GitHub asks, 5xx and network errors retried).
import { type GitHubClients, statusOf } from "../../lib/github.ts";
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

export type { GitHubClientOptions } from "../../lib/github.ts";
export { statusOf } from "../../lib/github.ts";

/** The repository controller's calls on one GitHub repository, through a client of lib/github.ts. */
export function gitHubClient(target: GitHubTarget, clients: GitHubClients): RepoGitHub {
  const octokit = clients.for({ token: target.token, ...(target.baseUrl && { baseUrl: target.baseUrl }) });
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
