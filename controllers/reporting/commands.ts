// Pure halves of the bot commands: who may ask about what, what a rebuild looks like, and replies
// as Telegram HTML (escaped, under the message limit).
import type { Build } from "../../api/build.ts";
import {
  approvePatch,
  cancelPatch,
  cancelRefusal,
  holdPatch,
  resumePatch,
} from "../../api/build-requests.ts";
import { parseDuration } from "../../api/duration.ts";
import type { Repository } from "../../api/repository.ts";
import { branchOrTag, buildDuration, commitTitle, failingStep, shortSha } from "./build-facts.ts";
import { escapeHtml, MESSAGE_LIMIT, truncateEscaped } from "./format.ts";

export const BOT_COMMANDS = [
  { command: "builds", description: "Recent builds of a repository: /builds <repository>" },
  { command: "log", description: "The end of a build's log: /log <build>" },
  { command: "rerun", description: "Build a commit again: /rerun <build> (admins)" },
  { command: "cancel", description: "Stop a build: /cancel <build> (admins)" },
  { command: "hold", description: "Keep a paused build paused longer: /hold <build> [1h] (admins)" },
  { command: "release", description: "Let a paused build go on: /release <build> (admins)" },
  { command: "approve", description: "Build a pull request from a fork: /approve <build> (admins)" },
  { command: "help", description: "What this bot can do" },
] as const;

/** The commands that change a build; only a Repository's notify.telegram.admins may use them. */
export const CONTROL_COMMANDS = ["rerun", "rebuild", "cancel", "hold", "release", "approve"] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export interface ChatUser {
  id: number;
  username?: string;
}

/** How a person is named in replies and in the annotations their commands leave: @name, or their id. */
export function who(user: ChatUser): string {
  return user.username ? `@${user.username}` : String(user.id);
}

/** Whether this Telegram user is one of the Repository's admins (by numeric id or @username). */
export function mayControl(repository: Repository, user: ChatUser): boolean {
  const admins = repository.spec.notify?.telegram?.admins ?? [];
  const name = user.username?.toLowerCase();
  return admins.some(
    (a) => a === String(user.id) || (name !== undefined && a.replace(/^@/, "").toLowerCase() === name),
  );
}

export function refusal(command: string, repository: Repository, user: ChatUser): string {
  const repo = `${repository.spec.github.owner}/${repository.spec.github.name}`;
  const admins = repository.spec.notify?.telegram?.admins ?? [];
  return admins.length === 0
    ? `Sorry ${escapeHtml(who(user))}, nobody may /${command} builds of <b>${escapeHtml(repo)}</b> from this chat: the Repository names no admins (spec.notify.telegram.admins).`
    : `Sorry ${escapeHtml(who(user))}, only the admins of <b>${escapeHtml(repo)}</b> may /${command} its builds (spec.notify.telegram.admins).`;
}

/** A parsed "1h", "30m", "90s"; the default hold is an hour. */
export const DEFAULT_HOLD_MS = 3_600_000;

/** The moment a build's own deadline passes (its pod is stopped then whatever else happens). */
export function buildDeadline(build: Build): number | undefined {
  const start = Date.parse(build.status?.startTime ?? build.metadata.creationTimestamp ?? "");
  const timeout = parseDuration(build.spec.timeout ?? "1h");
  return Number.isNaN(start) || timeout === undefined ? undefined : start + timeout;
}

export type ControlPlan =
  | { kind: "patch"; patch: Record<string, unknown>; reply: string }
  | { kind: "rerun"; reply: string }
  | { kind: "refuse"; reply: string };

/**
 * What a control command does to a build, as a pure decision: the merge patch (an annotation or
 * spec.cancel, so `kubectl describe build` shows who did what) and the answer, or why not.
 */
export function planControl(
  command: ControlCommand,
  build: Build,
  user: ChatUser,
  now: number,
  argument = "",
): ControlPlan {
  const name = `<code>${escapeHtml(build.metadata.name ?? "")}</code>`;
  const phase = build.status?.phase ?? "Queued";
  const by = `telegram:${who(user)}`;
  switch (command) {
    case "rerun":
    case "rebuild":
      return { kind: "rerun", reply: "" };
    case "cancel": {
      const refused = cancelRefusal(build);
      if (refused?.reason === "finished")
        return { kind: "refuse", reply: `${name} is already over (${escapeHtml(refused.phase)}).` };
      if (refused?.reason === "cancelling")
        return { kind: "refuse", reply: `${name} is being cancelled already.` };
      return {
        kind: "patch",
        patch: cancelPatch(by),
        reply: `Cancelling ${name}, as ${escapeHtml(who(user))} asked.`,
      };
    }
    case "release":
      if (phase !== "Paused")
        return { kind: "refuse", reply: `${name} is not paused (it is ${escapeHtml(phase)}).` };
      return {
        kind: "patch",
        patch: resumePatch(by, now),
        reply: `Released ${name}: it goes on now (${escapeHtml(who(user))}).`,
      };
    case "hold": {
      if (phase !== "Paused")
        return { kind: "refuse", reply: `${name} is not paused (it is ${escapeHtml(phase)}).` };
      const wanted = argument ? parseDuration(argument) : DEFAULT_HOLD_MS;
      if (wanted === undefined || wanted <= 0)
        return {
          kind: "refuse",
          reply: `"${escapeHtml(argument)}" is not a duration: write it like 30m or 2h.`,
        };
      const deadline = buildDeadline(build);
      const until = deadline === undefined ? now + wanted : Math.min(now + wanted, deadline);
      const capped = deadline !== undefined && now + wanted > deadline;
      const at = new Date(until).toISOString();
      return {
        kind: "patch",
        patch: holdPatch(at, by),
        reply: `Holding ${name} until ${at.slice(11, 16)} UTC${capped ? " (the build's own deadline: it cannot be held longer)" : ""}.`,
      };
    }
    case "approve":
      if (!(phase === "Queued" && build.status?.reason === "AwaitingApproval"))
        return { kind: "refuse", reply: `${name} waits for no approval (it is ${escapeHtml(phase)}).` };
      return {
        kind: "patch",
        patch: approvePatch(by),
        reply: `Approved ${name} (${escapeHtml(who(user))}): it builds now, without secrets.`,
      };
  }
}

export const HELP = [
  "<b>Kiln</b> announces builds here. Commands:",
  ...BOT_COMMANDS.map((c) => escapeHtml(c.description)),
].join("\n");

/** The Repositories that announce in this chat: the only ones the chat may ask about. */
export function repositoriesOfChat(repositories: readonly Repository[], chat: string): Repository[] {
  return repositories.filter((r) => r.spec.notify?.telegram?.chats.includes(chat));
}

/** Finds a repository by its resource name or by owner/name on GitHub. */
export function findRepository(repositories: readonly Repository[], name: string): Repository | undefined {
  const wanted = name.toLowerCase();
  return (
    repositories.find((r) => r.metadata.name === name) ??
    repositories.find((r) => `${r.spec.github.owner}/${r.spec.github.name}`.toLowerCase() === wanted)
  );
}

/** The argument after a command: "/builds@kiln_bot api" → "api". */
export function commandArgument(text: string): string {
  return text.replace(/^\/\S+\s*/, "").trim();
}

const PHASE_ICONS: Record<string, string> = {
  Queued: "⏳",
  Pending: "⏳",
  Running: "🔄",
  Paused: "⏸",
  Succeeded: "✅",
  Failed: "❌",
  Errored: "⚠️",
  Cancelled: "🚫",
  TimedOut: "⏱",
};

export function formatBuildList(
  repository: Repository,
  builds: readonly Build[],
  limit = 10,
  now?: number,
): string {
  const recent = builds
    .filter((b) => b.spec.repository === repository.metadata.name)
    .sort((a, b) => ((a.metadata.creationTimestamp ?? "") < (b.metadata.creationTimestamp ?? "") ? 1 : -1))
    .slice(0, limit);
  const name = `${repository.spec.github.owner}/${repository.spec.github.name}`;
  if (recent.length === 0) return `No builds of <b>${escapeHtml(name)}</b> yet.`;
  const lines = recent.map((b) => {
    const phase = b.status?.phase ?? "Queued";
    const step = failingStep(b);
    const took = buildDuration(b, now);
    return [
      `${PHASE_ICONS[phase] ?? ""} <code>${escapeHtml(truncateEscaped(b.metadata.name ?? "", 80))}</code>`,
      `<code>${escapeHtml(truncateEscaped(branchOrTag(b), 60))}</code> <code>${shortSha(b)}</code>`,
      escapeHtml(phase) +
        (step && phase !== "Succeeded" ? ` at ${escapeHtml(truncateEscaped(step.name, 40))}` : ""),
      took ? `(${took})` : "",
      escapeHtml(truncateEscaped(commitTitle(b), 120)),
    ]
      .filter(Boolean)
      .join(" ");
  });
  return [`<b>${escapeHtml(truncateEscaped(name, 200))}</b>: latest builds`, ...lines].join("\n");
}

/** The last lines of a log as a <pre> block that fits one message. */
export function formatLogTail(buildName: string, log: string, maxLines = 50): string {
  const header = `Last lines of <code>${escapeHtml(truncateEscaped(buildName, 200))}</code>:\n`;
  const lines = log.replace(/\n$/, "").split("\n").slice(-maxLines);
  const budget = MESSAGE_LIMIT - header.length - "<pre></pre>".length - 10;
  // Keep the newest lines that fit, each cut on a character boundary.
  const kept: string[] = [];
  let used = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = escapeHtml(truncateEscaped(lines[i]!, 500));
    if (used + line.length + 1 > budget) break;
    kept.unshift(line);
    used += line.length + 1;
  }
  if (kept.length === 0 || kept.join("").trim() === "") return `${header}<i>(the log is empty)</i>`;
  return `${header}<pre>${kept.join("\n")}</pre>`;
}
