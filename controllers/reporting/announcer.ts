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
import type { BlockedChat, Repository } from "../../api/repository.ts";
import type { Logger } from "../../lib/log.ts";
import type { Clock } from "../runtime/clock.ts";
import { TerminalError } from "../runtime/errors.ts";
import type { ObjectKey } from "../runtime/keys.ts";
import { ChatQueue, type ChatQueueOptions } from "./chat-queue.ts";
import { type Announcement, formatAnnouncement, formatDigest } from "./format.ts";
import type { CommitStatus, GitHubStatuses, StatusTarget } from "./github-status.ts";
import { isStatus, type ReportingApi } from "./kube.ts";
import {
  type NotifyEvent,
  owedAnnouncements,
  previousFinishedBuildOfBranch,
  unfinishedChats,
} from "./owed.ts";
import type { ChatSender, SendOutcome } from "./telegram.ts";

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
  github: GitHubStatuses;
  /** Absent when no bot token is configured: Telegram records are then left alone. */
  sender?: ChatSender;
  clock: Clock;
  log: Logger;
  config?: AnnouncerConfig;
  queue?: Partial<ChatQueueOptions<Item>>;
}

interface Item {
  namespace: string;
  name: string;
  uid: string;
  chat: string;
  announcement: Announcement;
  /** The Repository lists this chat as blocked (a retry after a spec change): clear it once sent. */
  wasBlocked: boolean;
}

const CONFLICT_RETRIES = 8;
const UNFINISHED = new Set<ChatReport["state"]>(["Queued", "Sending"]);

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

export function buildURL(build: Build, publicURL?: string): string | undefined {
  if (!publicURL) return undefined;
  const ns = encodeURIComponent(build.metadata.namespace ?? "default");
  return `${publicURL.replace(/\/+$/, "")}/builds/${ns}/${encodeURIComponent(build.metadata.name ?? "")}`;
}

export class Announcer {
  readonly #d: AnnouncerDeps;
  readonly #queue?: ChatQueue<Item>;
  readonly #context: string;

  constructor(deps: AnnouncerDeps) {
    this.#d = deps;
    this.#context = deps.config?.context ?? "kiln";
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
          begin: (_chat, items) => this.#markChats(items, () => ({ state: "Sending" }), true),
          finish: (chat, items, outcome) => this.#finish(chat, items, outcome),
        },
      });
    }
  }

  /** Waits for Telegram requests in flight to be recorded; sends nothing more. */
  close(): Promise<void> {
    return this.#queue?.close() ?? Promise.resolve();
  }

  readonly reconcile = async ({ namespace, name }: ObjectKey): Promise<void> => {
    let build = await this.#d.api.getBuild(namespace, name);
    if (!build) return;
    const repository = await this.#d.api.getRepository(namespace, build.spec.repository);
    const previous =
      build.status?.phase === "Succeeded"
        ? previousFinishedBuildOfBranch(build, await this.#d.api.listBuilds(namespace))
        : undefined;
    const owed = owedAnnouncements(build, repository, previous, this.#d.clock.now());
    const reported = build.status?.reported ?? {};
    const now = new Date(this.#d.clock.now()).toISOString();

    // 1. Claim what is owed, in one conditional write.
    const status: CommitStatus | undefined =
      // Without a token GitHub would refuse every status (401): nothing to announce there.
      owed.github && repository?.spec.tokenSecretRef
        ? {
            ...owed.github,
            context: this.#context,
            ...(buildURL(build, this.#d.config?.publicURL)
              ? { targetURL: buildURL(build, this.#d.config?.publicURL) }
              : {}),
          }
        : undefined;
    const intent = reported.githubIntent;
    const resuming = status && intent?.state === status.state;
    const claimGitHub = status && !resuming;
    const telegramOn = this.#queue !== undefined;
    const newChats: ChatReport[] = telegramOn
      ? [
          ...owed.chats.map(
            (c): ChatReport => ({ chat: c.chat, event: c.event, state: "Queued", time: now }),
          ),
          ...owed.skipped.map(
            (c): ChatReport => ({
              chat: c.chat,
              event: c.event,
              state: "Skipped",
              reason: c.reason,
              time: now,
            }),
          ),
        ]
      : [];
    const settle = telegramOn && owed.telegramSettled && reported.telegram !== build.status?.phase;
    if (claimGitHub || newChats.length || settle) {
      const patch: Record<string, unknown> = {};
      if (claimGitHub) {
        patch.githubIntent = {
          state: status.state,
          description: status.description,
          ...(status.targetURL ? { targetURL: status.targetURL } : {}),
          time: now,
        };
      }
      if (newChats.length) patch.chats = [...(reported.chats ?? []), ...newChats];
      if (settle) patch.telegram = build.status?.phase;
      // A 409 here throws: the work queue retries and the next attempt starts from a fresh read.
      build = await this.#d.api.patchBuildStatus(namespace, name, {
        metadata: { resourceVersion: build.metadata.resourceVersion },
        status: { reported: patch },
      });
    }

    // 2. Hand Telegram what is recorded but not finished (ours from just now, or a previous process's).
    if (this.#queue && repository) {
      for (const record of unfinishedChats(build)) {
        const item = this.#item(build, repository, record);
        this.#queue.enqueue(record.chat, item.uid, item);
      }
    }

    // 3. GitHub: post (unless a previous attempt already did), then record it.
    if (status && repository) {
      const recorded = build.status?.reported?.githubIntent;
      const posting: CommitStatus = {
        context: this.#context,
        state: status.state,
        description: recorded?.description ?? status.description,
        ...(recorded?.targetURL ? { targetURL: recorded.targetURL } : {}),
      };
      const target = await this.#target(build, repository);
      try {
        if (!(resuming && (await this.#d.github.shows(target, posting)))) {
          await this.#d.github.post(target, posting);
        }
      } catch (err) {
        throw githubError(err);
      }
      await this.#updateBuild(namespace, name, (current) =>
        current.status?.reported?.githubIntent?.state === posting.state
          ? { githubIntent: null, github: posting.state }
          : undefined,
      );
    }
  };

  #item(build: Build, repository: Repository, record: ChatReport): Item {
    const { github } = repository.spec;
    return {
      namespace: build.metadata.namespace ?? "default",
      name: build.metadata.name ?? "",
      uid: build.metadata.uid ?? build.metadata.name ?? randomUUID(),
      wasBlocked: !!repository.status?.telegram?.blockedChats?.some((b) => b.chat === record.chat),
      chat: record.chat,
      announcement: {
        build,
        repository: `${github.owner}/${github.name}`,
        event: (record.event ?? "failure") as NotifyEvent,
        ...(buildURL(build, this.#d.config?.publicURL)
          ? { url: buildURL(build, this.#d.config?.publicURL)! }
          : {}),
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
      ...(token ? { token: token.trim() } : {}),
    };
  }

  async #finish(chat: string, items: readonly Item[], outcome: SendOutcome): Promise<void> {
    const digest = items.length > 1;
    await this.#markChats(items, (): Partial<ChatReport> => {
      switch (outcome.kind) {
        case "sent":
          return { state: "Sent", messageID: outcome.messageID, ...(digest ? { digest } : {}) };
        case "blocked":
          return { state: "Skipped", reason: outcome.reason };
        case "failed":
          return { state: "Failed", reason: outcome.reason };
        default:
          return { state: "Failed", reason: outcome.reason };
      }
    });
    // Every Repository announcing here learns that the chat refuses us, or that it works again.
    const affected = items.filter(
      (i) => outcome.kind === "blocked" || (outcome.kind === "sent" && i.wasBlocked),
    );
    const repositories = new Set(
      affected.map((i) => `${i.namespace}/${i.announcement.build.spec.repository}`),
    );
    for (const key of repositories) {
      const [namespace, repository] = key.split("/") as [string, string];
      await this.#setBlocked(namespace, repository, chat, outcome.kind === "blocked" ? outcome : undefined);
    }
  }

  /** Rewrites the records of these items' chats; each build separately, conditionally, retried on conflict. */
  /** With onlyUnfinished, records already settled are left alone and their items not returned. */
  async #markChats(
    items: readonly Item[],
    change: () => Partial<ChatReport>,
    onlyUnfinished = false,
  ): Promise<Item[]> {
    const time = new Date(this.#d.clock.now()).toISOString();
    const changed: Item[] = [];
    for (const item of items) {
      let written = false;
      await this.#updateBuild(item.namespace, item.name, (build) => {
        written = false;
        if (build.metadata.uid && build.metadata.uid !== item.uid) return undefined;
        const chats = build.status?.reported?.chats ?? [];
        const record = chats.find((r) => r.chat === item.chat);
        if (!record || (onlyUnfinished && !UNFINISHED.has(record.state))) return undefined;
        written = true;
        return { chats: chats.map((r) => (r === record ? { ...r, ...change(), time } : r)) };
      });
      if (written) changed.push(item);
    }
    return changed;
  }

  /** Adds (outcome) or removes (undefined) the chat in Repository.status.telegram.blockedChats. */
  async #setBlocked(
    namespace: string,
    repositoryName: string,
    chat: string,
    outcome: (SendOutcome & { kind: "blocked" }) | undefined,
  ) {
    for (let attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
      const repository = await this.#d.api.getRepository(namespace, repositoryName);
      if (!repository) return;
      const generation = repository.metadata.generation ?? 0;
      const blocked = repository.status?.telegram?.blockedChats ?? [];
      const existing = blocked.find((b) => b.chat === chat);
      const others = blocked.filter((b) => b.chat !== chat);
      let next: BlockedChat[];
      if (outcome) {
        if (existing && existing.reason === outcome.reason && existing.generation === generation) return;
        const since = new Date(this.#d.clock.now()).toISOString();
        next = [...others, { chat, reason: outcome.reason, message: outcome.message, since, generation }];
      } else {
        if (!existing) return;
        next = others;
      }
      try {
        await this.#d.api.patchRepositoryStatus(namespace, repositoryName, {
          metadata: { resourceVersion: repository.metadata.resourceVersion },
          status: { telegram: { blockedChats: next } },
        });
        const fields = { namespace, repository: repositoryName, chat, reason: outcome?.reason };
        if (outcome) this.#d.log.warn(fields, "Telegram chat refuses messages; stopped sending to it");
        else this.#d.log.info(fields, "Telegram chat accepts messages again");
        return;
      } catch (err) {
        if (!isStatus(err, 409)) throw err;
      }
    }
  }

  /** Read, change reported, write with the read's resourceVersion; again on 409. */
  async #updateBuild(
    namespace: string,
    name: string,
    change: (build: Build) => Record<string, unknown> | undefined,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const build = await this.#d.api.getBuild(namespace, name);
      if (!build) return;
      const patch = change(build);
      if (!patch) return;
      try {
        await this.#d.api.patchBuildStatus(namespace, name, {
          metadata: { resourceVersion: build.metadata.resourceVersion },
          status: { reported: patch },
        });
        return;
      } catch (err) {
        if (!isStatus(err, 409) || attempt >= CONFLICT_RETRIES) throw err;
      }
    }
  }
}
