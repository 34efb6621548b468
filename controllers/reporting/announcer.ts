// The announcer's reconcile: the I/O shell around owedAnnouncements. It owns Build.status.reported
// (the build controller owns phase) and Repository.status.telegram.
//
// Exactly once, across restarts. Every announcement is written down before it is made:
//   GitHub:   reported.githubIntent = {state, description, targetURL}  → POST status → reported.github = state
//   Telegram: reported.chats[] = {chat, state: Queued} → (just before the request) Sending → Sent/Skipped/Failed
// Each write is a JSON merge patch on /status carrying metadata.resourceVersion, so two reconciles
// working from the same snapshot cannot both claim an announcement: the second gets 409 and re-reads.
//
// A restart finds those records and resumes:
// - githubIntent left behind: we may or may not have posted. GitHub can tell us — the commit's newest
//   status of our context — so we post only when GitHub does not already show it: exactly once.
// - a chat left Queued: the request was never made (Sending is written before it is), so it is sent.
// - a chat left Sending: the process died during the HTTP request itself, and the Bot API cannot tell
//   us whether the message arrived. We resend (at least once): a lost failure alert is the expensive
//   mistake, a rare duplicate is visible and harmless (Alertmanager makes the same choice). The window
//   is one request long, and a graceful shutdown (close()) waits for requests in flight to be recorded.
import { randomUUID } from "node:crypto";
import type { Build, ChatReport } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import type { Logger } from "../../lib/log.ts";
import type { Clock } from "../../lib/runtime/clock.ts";
import { TerminalError } from "../../lib/runtime/errors.ts";
import type { ObjectKey } from "../../lib/runtime/keys.ts";
import { ChatQueue, type ChatQueueOptions, type Settled } from "./chat-queue.ts";
import { chatDelayed, chatOutcome, claimFor, postingFor } from "./claims.ts";
import { type Announcement, formatAnnouncement, formatDigest } from "./format.ts";
import type { CommitStatus, GitHubStatuses, StatusTarget } from "./github-status.ts";
import type { ReportingApi } from "./kube.ts";
import {
  type ChatEvent,
  isFinalRecord,
  isInteractive,
  owedAnnouncements,
  previousFinishedBuildOfBranch,
  STALE_AFTER_MS,
  unfinishedChats,
} from "./owed.ts";
import { type ChatRef, StatusWriter } from "./status-writer.ts";
import type { ChatSender } from "./telegram.ts";

export interface AnnouncerConfig {
  /** The commit status context; "kiln" by default. */
  context?: string;
  /** Base of the link to a build ("https://kiln.example" → …/builds/<namespace>/<name>). */
  publicURL?: string;
  /** GitHub API root for Repositories that do not name one (GitHub Enterprise). */
  githubAPIURL?: string;
}

export interface AnnouncerDeps {
  api: ReportingApi;
  /**
   * Where a reconcile reads the Build and its Repository: the informer caches in the controller (writes
   * are conditional on the resourceVersion, so a stale read fails with 409 and is retried); the API itself
   * when unset.
   */
  cache?: Pick<ReportingApi, "getBuild" | "getRepository">;
  github: GitHubStatuses;
  /** Absent when no bot token is configured: Telegram records are then left alone. */
  sender?: ChatSender;
  clock: Clock;
  log: Logger;
  config?: AnnouncerConfig;
  queue?: Partial<ChatQueueOptions<Item>>;
  /** Records a Kubernetes Event (a chat unreachable for minutes is a Warning on its Repositories). */
  event?: (
    subject: Repository,
    note: { type: "Normal" | "Warning"; reason: string; message: string },
  ) => void;
}

interface Item extends ChatRef {
  announcement: Announcement;
  /** The Repository lists this chat as blocked (a retry after a spec change): clear it once sent. */
  wasBlocked: boolean;
  /** Transient failures recorded so far (by this process or one before it). */
  attempts: number;
  /** When the news is stale: a day after the build finished. */
  staleAt: number;
}

const GITHUB_REASONS: Record<number, string> = {
  401: "GitHubUnauthorized",
  403: "GitHubForbidden",
  404: "GitHubNotFound",
  422: "GitHubRejected",
};

/**
 * A refusal that retrying cannot fix (bad token, no access, unknown commit) is terminal: the intent
 * stays recorded and the periodic resync tries again, instead of a tight retry loop. Rate limits
 * never get here: the throttling plugin waits them out.
 */
function githubError(err: unknown): unknown {
  const status = (err as { status?: number }).status;
  const reason = status === undefined ? undefined : GITHUB_REASONS[status];
  return reason
    ? new TerminalError(reason, `GitHub answered ${status}: ${(err as Error).message}`, { cause: err })
    : err;
}

const recordKey = (ref: ChatRef) => `${ref.uid}/${ref.chat}/${ref.event ?? ""}`;

export function buildURL(build: Build, publicURL?: string): string | undefined {
  if (!publicURL) return undefined;
  const ns = encodeURIComponent(build.metadata.namespace ?? "default");
  return `${publicURL.replace(/\/+$/, "")}/builds/${ns}/${encodeURIComponent(build.metadata.name ?? "")}`;
}

export class Announcer {
  readonly #d: AnnouncerDeps;
  readonly #writer: StatusWriter;
  readonly #queue?: ChatQueue<Item>;
  readonly #context: string;
  /** Outcomes this process knows but could not write yet (API down): never sent twice, written later. */
  readonly #unrecorded = new Map<string, Partial<ChatReport>>();

  constructor(deps: AnnouncerDeps) {
    this.#d = deps;
    this.#context = deps.config?.context ?? "kiln";
    this.#writer = new StatusWriter(deps.api, deps.clock, deps.log);
    if (deps.sender) {
      this.#queue = new ChatQueue<Item>({
        ...deps.queue,
        sender: deps.sender,
        clock: deps.clock,
        log: deps.log.child({ component: "telegram-queue" }),
        hooks: {
          render: (items) =>
            items.length === 1
              ? formatAnnouncement(items[0]!.announcement)
              : formatDigest(items.map((i) => i.announcement)),
          digestible: (item) => !isInteractive(item.announcement.event),
          begin: (_chat, items) => this.#begin(items),
          finish: (chat, items, outcome) => this.#finish(chat, items, outcome),
          delayed: async (_chat, items, delay) => {
            for (const item of items) await this.#record(item, chatDelayed(delay));
          },
          staleAt: (item) => item.staleAt,
          failures: (item) => item.attempts,
          reachability: (chat, unreachable) => void this.#reachability(chat, unreachable),
        },
      });
    }
  }

  /** Waits for Telegram requests in flight to be recorded; sends nothing more. */
  close(): Promise<void> {
    return this.#queue?.close() ?? Promise.resolve();
  }

  readonly reconcile = async ({ namespace, name }: ObjectKey): Promise<void> => {
    const read = this.#d.cache ?? this.#d.api;
    let build = await read.getBuild(namespace, name);
    if (!build) return;
    const repository = await read.getRepository(namespace, build.spec.repository);
    const previous =
      build.status?.phase === "Succeeded"
        ? previousFinishedBuildOfBranch(build, await this.#d.api.listBuilds(namespace))
        : undefined;
    const owed = owedAnnouncements(build, repository, previous, this.#d.clock.now());
    const url = buildURL(build, this.#d.config?.publicURL);
    // Without a token GitHub would refuse every status (401): nothing to announce there.
    const status: CommitStatus | undefined =
      owed.github && repository?.spec.tokenSecretRef
        ? { ...owed.github, context: this.#context, ...(url ? { targetURL: url } : {}) }
        : undefined;

    // 1. Claim what is owed, in one conditional write (a 409 throws: the work queue retries from a fresh read).
    const now = new Date(this.#d.clock.now()).toISOString();
    const claim = claimFor(build, owed, status, this.#queue !== undefined, now);
    if (claim.patch) {
      build = await this.#d.api.patchBuildStatus(namespace, name, {
        metadata: { resourceVersion: build.metadata.resourceVersion },
        status: { reported: claim.patch },
      });
    }

    // 2. Hand Telegram what is recorded but not finished (ours from just now, or a previous process's).
    if (this.#queue && repository) {
      for (const record of unfinishedChats(build)) {
        this.#queue.enqueue(
          record.chat,
          `${build.metadata.uid ?? name}/${isFinalRecord(record) ? "final" : record.event}`,
          this.#item(build, repository, record, url),
        );
      }
    }

    // 3. GitHub: post (unless the previous attempt already did: GitHub shows it), then record it.
    if (status && repository) {
      const posting = postingFor(build, status);
      const target = await this.#target(build, repository);
      try {
        if (!(claim.resuming && (await this.#d.github.shows(target, posting)))) {
          await this.#d.github.post(target, posting);
        }
      } catch (err) {
        throw githubError(err);
      }
      await this.#writer.updateReported(namespace, name, (current) =>
        current.status?.reported?.githubIntent?.state === posting.state
          ? { githubIntent: null, github: posting.state }
          : undefined,
      );
    }
  };

  #item(build: Build, repository: Repository, record: ChatReport, url: string | undefined): Item {
    const { github } = repository.spec;
    const completed = Date.parse(build.status?.completionTime ?? record.time);
    return {
      attempts: record.attempts ?? 0,
      staleAt: (Number.isNaN(completed) ? this.#d.clock.now() : completed) + STALE_AFTER_MS,
      namespace: build.metadata.namespace ?? "default",
      name: build.metadata.name ?? "",
      uid: build.metadata.uid ?? build.metadata.name ?? randomUUID(),
      chat: record.chat,
      ...(record.event ? { event: record.event } : {}),
      wasBlocked: !!repository.status?.telegram?.blockedChats?.some((b) => b.chat === record.chat),
      announcement: {
        build,
        repository: `${github.owner}/${github.name}`,
        event: (record.event ?? "failure") as ChatEvent,
        ...(url ? { url } : {}),
      },
    };
  }

  async #target(build: Build, repository: Repository): Promise<StatusTarget> {
    const ref = repository.spec.tokenSecretRef;
    const namespace = repository.metadata.namespace ?? "default";
    const token = ref ? await this.#d.api.readSecretKey(namespace, ref.name, ref.key) : undefined;
    const baseUrl = repository.spec.github.apiURL ?? this.#d.config?.githubAPIURL;
    return {
      owner: repository.spec.github.owner,
      repo: repository.spec.github.name,
      sha: build.spec.revision.sha,
      ...(baseUrl ? { baseUrl } : {}),
      ...(token ? { token } : {}),
    };
  }

  async #begin(items: readonly Item[]): Promise<Item[]> {
    const fresh = items.filter((item) => !this.#unrecorded.has(recordKey(item)));
    for (const item of items.filter((i) => this.#unrecorded.has(recordKey(i)))) {
      await this.#record(item, this.#unrecorded.get(recordKey(item))!);
    }
    // Sending is on record before the request: a restart knows it may have gone out.
    return this.#writer.markChats(fresh, { state: "Sending" }, true);
  }

  /** Writes one chat record; on failure remembers it, so the message is not sent again meanwhile. */
  async #record(item: Item, change: Partial<ChatReport>): Promise<void> {
    try {
      await this.#writer.markChats([item], change);
      this.#unrecorded.delete(recordKey(item));
    } catch (err) {
      this.#unrecorded.set(recordKey(item), change);
      this.#d.log.warn(
        { err: String(err), build: item.name, chat: item.chat },
        "could not record a Telegram outcome yet",
      );
    }
  }

  /** Every Repository announcing to the chat gets a Warning while it is unreachable, a Normal event after. */
  async #reachability(
    chat: string,
    unreachable: { sinceMs: number; answer: string } | undefined,
  ): Promise<void> {
    if (!this.#d.event) return;
    const repositories = (await this.#d.api.listRepositories().catch(() => [])).filter((r) =>
      r.spec.notify?.telegram?.chats.includes(chat),
    );
    const minutes = unreachable ? Math.round((this.#d.clock.now() - unreachable.sinceMs) / 60_000) : 0;
    for (const repository of repositories) {
      this.#d.event(
        repository,
        unreachable
          ? {
              type: "Warning",
              reason: "TelegramUnreachable",
              message: `Telegram has not taken a message for chat ${chat} for ${minutes} min (last answer: ${unreachable.answer}); announcements are kept and retried`,
            }
          : {
              type: "Normal",
              reason: "TelegramReachable",
              message: `Telegram takes messages for chat ${chat} again`,
            },
      );
    }
  }

  async #finish(chat: string, items: readonly Item[], outcome: Settled): Promise<void> {
    const change = chatOutcome(outcome, items.length > 1);
    for (const item of items) await this.#record(item, change);
    // Every Repository announcing here learns that the chat refuses us, or that it works again.
    const blocked = outcome.kind === "blocked" ? outcome : undefined;
    const affected = items.filter((i) => blocked || (outcome.kind === "sent" && i.wasBlocked));
    const repositories = new Set(
      affected.map((i) => `${i.namespace}/${i.announcement.build.spec.repository}`),
    );
    for (const key of repositories) {
      const [namespace, repository] = key.split("/") as [string, string];
      await this.#writer.setBlocked(namespace, repository, chat, blocked);
    }
  }
}
