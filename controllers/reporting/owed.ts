// What a Build is owed, as a pure function of the records: which commit status GitHub should show,
// and which Telegram chats still need their one message. The reconciler records these as intents
// in Build.status.reported before it sends anything.
import type { Build, ChatReport, GitHubState } from "../../api/build.ts";
import { isFinished } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import { buildDuration, failingStep } from "./build-facts.ts";

export type NotifyEvent = "failure" | "recovery" | "success";
/**
 * What a chat record is about: a finished build (a NotifyEvent), a build waiting at a pause (with the
 * kubectl exec line and release/cancel buttons) or a fork's pull request waiting for approval.
 */
export type ChatEvent = NotifyEvent | "paused" | "approval";
const INTERACTIVE = new Set<string>(["paused", "approval"]);
/** Whether a record is about the finished build (older records carry no event: they are). */
export const isFinalRecord = (record: ChatReport) => !INTERACTIVE.has(record.event ?? "");
export const isInteractive = (event: ChatEvent) => INTERACTIVE.has(event);

/** The interactive announcement a Build in this phase is owed, if any. */
export function interactiveEvent(build: Build, when: readonly string[]): ChatEvent | undefined {
  const status = build.status;
  if (status?.phase === "Paused" && (when.includes("paused") || when.includes("failure"))) return "paused";
  if (status?.phase === "Queued" && status.reason === "AwaitingApproval") return "approval";
  return undefined;
}

export interface OwedStatus {
  state: GitHubState;
  description: string;
}

export interface OwedChat {
  chat: string;
  event: ChatEvent;
}

export interface SkippedChat {
  chat: string;
  event: ChatEvent;
  reason: string;
}

export interface Owed {
  /** The commit status to post now, if GitHub does not show it yet. */
  github?: OwedStatus;
  /** Chats owed a message that have no record yet. */
  chats: OwedChat[];
  /** Chats owed a message that Kiln will not send to (blocked); they get a Skipped record. */
  skipped: SkippedChat[];
  /** Every chat is settled for this phase: reported.telegram may be set to it. */
  telegramSettled: boolean;
  /** Interactive records (paused, approval) still owed though the build is over: to be Skipped. */
  outdated?: ChatReport[];
}

/** Builds that finished longer ago than this are not announced in Telegram any more. */
export const STALE_AFTER_MS = 24 * 3_600_000;

const FAILED_PHASES = new Set(["Failed", "TimedOut", "Errored"]);
const TERMINAL_CHAT_STATES = new Set<ChatReport["state"]>(["Sent", "Skipped", "Failed"]);

/** The commit status state a phase maps to; undefined while nothing has started. */
export function githubStateFor(phase: string | undefined): GitHubState | undefined {
  switch (phase) {
    case "Pending":
    case "Running":
    case "Paused":
      return "pending";
    case "Succeeded":
      return "success";
    case "Failed":
    case "TimedOut":
      return "failure";
    case "Errored":
    case "Cancelled":
      return "error";
    default:
      return undefined;
  }
}

const DESCRIPTION_LIMIT = 140; // GitHub rejects longer commit status descriptions

export function statusDescription(build: Build, now?: number): string {
  const phase = build.status?.phase;
  const took = buildDuration(build, now);
  const after = took ? ` after ${took}` : "";
  let text: string;
  switch (phase) {
    case "Pending":
      text = "Kiln is starting the build";
      break;
    case "Running":
      text = "Kiln is running the build";
      break;
    case "Paused":
      text = "The build is paused";
      break;
    case "Succeeded":
      text = `Passed${took ? ` in ${took}` : ""}`;
      break;
    case "Failed": {
      const step = failingStep(build);
      text = step ? `Failed at step ${step.name}${after}` : `Failed${after}`;
      break;
    }
    case "TimedOut":
      text = `Timed out${after}`;
      break;
    case "Cancelled":
      text = "Cancelled";
      break;
    case "Errored":
      text = build.status?.message ? `Errored: ${build.status.message}` : "Errored";
      break;
    default:
      text = "Queued";
  }
  const chars = Array.from(text);
  return chars.length <= DESCRIPTION_LIMIT ? text : `${chars.slice(0, DESCRIPTION_LIMIT - 1).join("")}…`;
}

/** failure, recovery or success for a finished build; undefined for a cancelled or unfinished one. */
export function notifyEvent(build: Build, previous?: Build): NotifyEvent | undefined {
  const phase = build.status?.phase;
  if (phase === "Succeeded") {
    return previous?.status?.phase && FAILED_PHASES.has(previous.status.phase) ? "recovery" : "success";
  }
  if (phase && FAILED_PHASES.has(phase)) return "failure";
  return undefined;
}

/** A recovery is a success too: `when: [success]` announces it, `when: [recovery]` announces only it. */
export function wanted(event: NotifyEvent, when: readonly string[]): boolean {
  if (event === "recovery") return when.includes("recovery") || when.includes("success");
  return when.includes(event);
}

function blockedReason(repository: Repository, chat: string): string | undefined {
  const blocked = repository.status?.telegram?.blockedChats?.find((entry) => entry.chat === chat);
  // A spec change (new generation) gives a blocked chat another try.
  if (!blocked || blocked.generation !== (repository.metadata.generation ?? 0)) return undefined;
  return blocked.reason;
}

export function owedAnnouncements(
  build: Build,
  repository: Repository | undefined,
  previousFinishedBuildOfBranch?: Build,
  now?: number,
): Owed {
  const phase = build.status?.phase;
  const reported = build.status?.reported;
  const owed: Owed = { chats: [], skipped: [], telegramSettled: false };

  const state = githubStateFor(phase);
  // Only forward: once a final state is posted nothing goes back to pending.
  const finalPosted = reported?.github !== undefined && reported.github !== "pending";
  if (state !== undefined && state !== reported?.github && !finalPosted) {
    owed.github = { state, description: statusDescription(build, now) };
  }

  const telegram = repository?.spec.notify?.telegram;
  const records = reported?.chats ?? [];
  if (!isFinished(phase)) {
    const event = telegram && interactiveEvent(build, telegram.when);
    if (event) {
      for (const chat of new Set(telegram.chats)) {
        if (records.some((r) => r.chat === chat && r.event === event)) continue;
        const reason = repository && blockedReason(repository, chat);
        if (reason) owed.skipped.push({ chat, event, reason });
        else owed.chats.push({ chat, event });
      }
    }
    return owed;
  }
  if (reported?.telegram === phase) {
    owed.telegramSettled = true;
    return owed;
  }
  const event = notifyEvent(build, previousFinishedBuildOfBranch);
  // A chat configured long after a build finished (or a controller down for a day) would otherwise
  // get a flood of old news; those are recorded as Skipped, visibly, instead.
  const completed = Date.parse(build.status?.completionTime ?? "");
  const stale = now !== undefined && !Number.isNaN(completed) && now - completed > STALE_AFTER_MS;
  if (telegram && event && wanted(event, telegram.when)) {
    for (const chat of new Set(telegram.chats)) {
      if (records.some((record) => record.chat === chat && isFinalRecord(record))) continue;
      const reason = (repository && blockedReason(repository, chat)) || (stale ? "Stale" : undefined);
      if (reason) owed.skipped.push({ chat, event, reason });
      else owed.chats.push({ chat, event });
    }
  }
  // A pause or approval message still owed when the build is over is old news: it is left unsent
  // (claimFor records it Skipped, Outdated), so it does not hold the final announcement's record up.
  owed.outdated = records.filter((r) => !isFinalRecord(r) && !TERMINAL_CHAT_STATES.has(r.state));
  owed.telegramSettled =
    owed.chats.length === 0 &&
    owed.skipped.length === 0 &&
    records.every((record) => TERMINAL_CHAT_STATES.has(record.state) || !isFinalRecord(record));
  return owed;
}

/** Records the reconciler must (re)start sending: left Queued or Sending by this or an earlier process. */
export function unfinishedChats(build: Build): ChatReport[] {
  return (build.status?.reported?.chats ?? []).filter((record) => !TERMINAL_CHAT_STATES.has(record.state));
}

/** The newest finished, not cancelled, Build of the same repository and branch created before this one. */
export function previousFinishedBuildOfBranch(build: Build, builds: readonly Build[]): Build | undefined {
  const branch = build.spec.revision.branch ?? build.spec.revision.tag;
  const created = build.metadata.creationTimestamp ?? "";
  let best: Build | undefined;
  for (const other of builds) {
    if (other.metadata.name === build.metadata.name) continue;
    if (other.spec.repository !== build.spec.repository) continue;
    if ((other.spec.revision.branch ?? other.spec.revision.tag) !== branch) continue;
    const phase = other.status?.phase;
    if (!isFinished(phase) || phase === "Cancelled") continue;
    const when = other.metadata.creationTimestamp ?? "";
    if (when > created || (when === created && (other.metadata.name ?? "") > (build.metadata.name ?? "")))
      continue;
    if (!best || compareCreation(other, best) > 0) best = other;
  }
  return best;
}

function compareCreation(a: Build, b: Build): number {
  const ta = a.metadata.creationTimestamp ?? "";
  const tb = b.metadata.creationTimestamp ?? "";
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1;
}
