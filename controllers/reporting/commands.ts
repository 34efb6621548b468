// Pure halves of the bot commands: who may ask about what, what a rebuild looks like, and replies
// as Telegram HTML (escaped, under the message limit).
import type { Build, BuildInput } from "../../api/build.ts";
import { API_VERSION, LABELS } from "../../api/group.ts";
import type { Repository } from "../../api/repository.ts";
import { branchOrTag, buildDuration, commitTitle, failingStep, shortSha } from "./build-facts.ts";
import { escapeHtml, MESSAGE_LIMIT, truncateEscaped } from "./format.ts";

export const BOT_COMMANDS = [
  { command: "builds", description: "Recent builds of a repository: /builds <repository>" },
  { command: "rebuild", description: "Build a commit again: /rebuild <build>" },
  { command: "log", description: "The end of a build's log: /log <build>" },
  { command: "help", description: "What this bot can do" },
] as const;

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

/** A new Build of the same commit, started by hand. */
export function rebuildOf(original: Build, name: string, requestedBy: string): BuildInput {
  const labels: Record<string, string> = {};
  for (const key of [LABELS.repository, LABELS.branch, LABELS.commit]) {
    const value = original.metadata.labels?.[key];
    if (value !== undefined) labels[key] = value;
  }
  return {
    apiVersion: API_VERSION,
    kind: "Build",
    metadata: {
      name,
      labels,
      annotations: {
        "kiln.dev/rebuild-of": original.metadata.name ?? "",
        "kiln.dev/requested-by": requestedBy,
      },
    },
    spec: {
      repository: original.spec.repository,
      revision: structuredClone(original.spec.revision),
      trigger: { event: "manual" },
      pauseOnFailure: original.spec.pauseOnFailure,
      timeout: original.spec.timeout,
    },
  };
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
