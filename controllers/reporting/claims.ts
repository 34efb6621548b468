// Pure: the status writes that record announcements — the claim written before anything is said,
// the record of how a message ended, and the Repository's list of blocked chats.
import type { Build, ChatReport } from "../../api/build.ts";
import type { BlockedChat, Repository } from "../../api/repository.ts";
import type { Delay, Settled } from "./chat-queue.ts";
import type { CommitStatus } from "./github-status.ts";
import type { Owed } from "./owed.ts";

export const UNFINISHED_CHAT_STATES: ReadonlySet<ChatReport["state"]> = new Set(["Queued", "Sending"]);

export interface Claim {
  /** The merge patch for status.reported; undefined when nothing new is owed. */
  patch?: Record<string, unknown>;
  /** A recorded intent for this very status exists: it may already have been posted. */
  resuming: boolean;
}

/**
 * What to write into status.reported before announcing: the GitHub intent (unless the same one is
 * recorded already), a Queued record per owed chat, a Skipped one per blocked chat, and the phase
 * once every chat is settled. `telegram` is false when no bot is configured: chats are left alone.
 */
export function claimFor(
  build: Build,
  owed: Owed,
  status: CommitStatus | undefined,
  telegram: boolean,
  now: string,
): Claim {
  const reported = build.status?.reported ?? {};
  const resuming = status !== undefined && reported.githubIntent?.state === status.state;
  const patch: Record<string, unknown> = {};
  if (status && !resuming) {
    patch.githubIntent = {
      state: status.state,
      description: status.description,
      ...(status.targetURL ? { targetURL: status.targetURL } : {}),
      time: now,
    };
  }
  if (telegram) {
    const added: ChatReport[] = [
      ...owed.chats.map((c): ChatReport => ({ chat: c.chat, event: c.event, state: "Queued", time: now })),
      ...owed.skipped.map(
        (c): ChatReport => ({ chat: c.chat, event: c.event, state: "Skipped", reason: c.reason, time: now }),
      ),
    ];
    const outdated = new Set(owed.outdated ?? []);
    const kept = (reported.chats ?? []).map((r) =>
      outdated.has(r) ? { ...r, state: "Skipped" as const, reason: "Outdated", time: now } : r,
    );
    if (added.length || outdated.size) patch.chats = [...kept, ...added];
    const phase = build.status?.phase;
    if (owed.telegramSettled && reported.telegram !== phase) patch.telegram = phase;
  }
  return Object.keys(patch).length ? { patch, resuming } : { resuming };
}

/** The status to post: the recorded intent's wording when there is one, so a resumed post says the same. */
export function postingFor(build: Build, status: CommitStatus): CommitStatus {
  const recorded = build.status?.reported?.githubIntent;
  if (!recorded || recorded.state !== status.state) return status;
  return {
    context: status.context,
    state: recorded.state,
    description: recorded.description ?? status.description,
    ...(recorded.targetURL ? { targetURL: recorded.targetURL } : {}),
  };
}

/** The fields of a chat record that describe a delay, cleared once the message is settled. */
const NOT_DELAYED = { lastAnswer: undefined, retryAt: undefined } as const;

/** The record of a chat once its message went out, was refused, failed for good or went stale. */
export function chatOutcome(outcome: Settled, digest: boolean): Partial<ChatReport> {
  switch (outcome.kind) {
    case "sent":
      return { ...NOT_DELAYED, state: "Sent", messageID: outcome.messageID, ...(digest ? { digest } : {}) };
    case "blocked":
    case "stale":
      return { ...NOT_DELAYED, state: "Skipped", reason: outcome.reason };
    default:
      return { ...NOT_DELAYED, state: "Failed", reason: outcome.reason };
  }
}

/** The record of a chat whose message waits after a transient failure: owed, with Telegram's last answer. */
export function chatDelayed(delay: Delay): Partial<ChatReport> {
  return {
    state: "Queued",
    attempts: delay.failures,
    lastAnswer: delay.answer,
    retryAt: new Date(delay.retryAt).toISOString(),
  };
}

/**
 * Repository.status.telegram.blockedChats after a chat refused us (blocked) or took a message again
 * (undefined); undefined when nothing changes.
 */
export function blockedChatsAfter(
  repository: Repository,
  chat: string,
  blocked: { reason: string; message: string } | undefined,
  now: string,
): BlockedChat[] | undefined {
  const generation = repository.metadata.generation ?? 0;
  const list = repository.status?.telegram?.blockedChats ?? [];
  const existing = list.find((b) => b.chat === chat);
  const others = list.filter((b) => b.chat !== chat);
  if (!blocked) return existing ? others : undefined;
  if (existing && existing.reason === blocked.reason && existing.generation === generation) return undefined;
  return [...others, { chat, reason: blocked.reason, message: blocked.message, since: now, generation }];
}
