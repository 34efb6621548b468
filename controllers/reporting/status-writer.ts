// Conditional status writes for the announcer: read, compute the change from the fresh object,
// write with its resourceVersion, again on 409. Never a blind write over someone else's update.
import type { Build, ChatReport } from "../../api/build.ts";
import { isConflict } from "../../lib/kube-errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { Clock } from "../../lib/runtime/clock.ts";
import { blockedChatsAfter, UNFINISHED_CHAT_STATES } from "./claims.ts";
import type { ReportingApi } from "./kube.ts";

const CONFLICT_RETRIES = 8;

/**
 * Runs `attempt` (read fresh, write conditionally) again on a 409, up to CONFLICT_RETRIES times; the
 * last conflict is thrown, so the work queue backs off instead of the change being dropped.
 */
async function retryOnConflict(attempt: () => Promise<void>): Promise<void> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isConflict(err) || n >= CONFLICT_RETRIES) throw err;
    }
  }
}

/** A build's record for one chat and one announcement (the final one when event is unset or final). */
export interface ChatRef {
  namespace: string;
  name: string;
  uid: string;
  chat: string;
  event?: string;
}

/** The record a ref means: same chat, and same announcement (any final one counts as the final one). */
export function recordOf(chats: readonly ChatReport[], ref: ChatRef): ChatReport | undefined {
  const interactive = (e: string | undefined) => e === "paused" || e === "approval";
  return chats.find(
    (r) => r.chat === ref.chat && (interactive(ref.event) ? r.event === ref.event : !interactive(r.event)),
  );
}

export class StatusWriter {
  readonly #api: ReportingApi;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(api: ReportingApi, clock: Clock, log: Logger) {
    this.#api = api;
    this.#clock = clock;
    this.#log = log;
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  /** Changes status.reported; `change` sees the fresh object and returns a merge patch or undefined. */
  async updateReported(
    namespace: string,
    name: string,
    change: (build: Build) => Record<string, unknown> | undefined,
  ): Promise<void> {
    await retryOnConflict(async () => {
      const build = await this.#api.getBuild(namespace, name);
      if (!build) return;
      const patch = change(build);
      if (!patch) return;
      await this.#api.patchBuildStatus(namespace, name, {
        metadata: { resourceVersion: build.metadata.resourceVersion },
        status: { reported: patch },
      });
    });
  }

  /**
   * Applies `change` to each ref's chat record and returns the refs written. With onlyUnfinished,
   * records already settled (Sent, Skipped, Failed) are left alone and their refs not returned.
   */
  async markChats<T extends ChatRef>(
    refs: readonly T[],
    change: Partial<ChatReport>,
    onlyUnfinished = false,
  ): Promise<T[]> {
    const time = this.#now();
    const written: T[] = [];
    for (const ref of refs) {
      let wrote = false;
      await this.updateReported(ref.namespace, ref.name, (build) => {
        wrote = false;
        if (build.metadata.uid && build.metadata.uid !== ref.uid) return undefined; // a new Build of that name
        const chats = build.status?.reported?.chats ?? [];
        const record = recordOf(chats, ref);
        if (!record || (onlyUnfinished && !UNFINISHED_CHAT_STATES.has(record.state))) return undefined;
        wrote = true;
        return { chats: chats.map((r) => (r === record ? { ...r, ...change, time } : r)) };
      });
      if (wrote) written.push(ref);
    }
    return written;
  }

  /** Lists (blocked) or unlists (undefined) the chat in Repository.status.telegram.blockedChats. */
  async setBlocked(
    namespace: string,
    repositoryName: string,
    chat: string,
    blocked: { reason: string; message: string } | undefined,
  ): Promise<void> {
    await retryOnConflict(async () => {
      const repository = await this.#api.getRepository(namespace, repositoryName);
      if (!repository) return;
      const next = blockedChatsAfter(repository, chat, blocked, this.#now());
      if (!next) return;
      await this.#api.patchRepositoryStatus(namespace, repositoryName, {
        metadata: { resourceVersion: repository.metadata.resourceVersion },
        status: { telegram: { blockedChats: next } },
      });
      const fields = { namespace, repository: repositoryName, chat, reason: blocked?.reason };
      if (blocked) this.#log.warn(fields, "Telegram chat refuses messages; stopped sending to it");
      else this.#log.info(fields, "Telegram chat accepts messages again");
    });
  }
}
