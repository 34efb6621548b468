// Telegram messages about finished builds, as HTML (parse_mode HTML) and as plain text for the
// fallback when Telegram cannot parse the HTML. Every user-controlled field is cut to a budget
// measured after escaping, on a grapheme boundary, so the message stays under Telegram's limit
// and no entity or emoji is ever split.
import type { Build } from "../../api/build.ts";
import { branchOrTag, buildDuration, commitTitle, failingStep, shortSha } from "./build-facts.ts";
import { buttonData } from "./buttons.ts";
import type { ChatEvent, NotifyEvent } from "./owed.ts";

/** Telegram's limit on a message's text, in UTF-16 code units. */
export const MESSAGE_LIMIT = 4096;

/** A button under a message (Telegram's inline keyboard); `data` comes back when it is pressed. */
export interface ChatButton {
  text: string;
  data: string;
}

export interface ChatMessage {
  html: string;
  text: string;
  /** Rows of buttons. */
  buttons?: ChatButton[][];
}

export interface Announcement {
  build: Build;
  /** owner/name on GitHub, or the Repository's name. */
  repository: string;
  event: ChatEvent;
  /** Where the build can be seen; without it the message shows a kubectl command. */
  url?: string;
}

interface Span {
  text: string;
  style?: "b" | "code" | "i";
  href?: string;
}
type Line = Span[];

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ESCAPES[c]!);
}

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/** Cuts text so that its escaped form is at most `budget` code units, ending in … when cut. */
export function truncateEscaped(raw: string, budget: number): string {
  const text = raw.toWellFormed(); // a lone surrogate would make the whole request invalid JSON for Telegram
  if (escapeHtml(text).length <= budget) return text;
  let used = 1; // the ellipsis
  let out = "";
  for (const { segment } of graphemes.segment(text)) {
    const cost = escapeHtml(segment).length;
    if (used + cost > budget) break;
    used += cost;
    out += segment;
  }
  return `${out}…`;
}

const URL_LIMIT = 600;

/** An http(s) URL short enough to link; anything else is left out rather than cut (a cut URL is wrong). */
function safeURL(url: string | undefined): string | undefined {
  if (!url || escapeHtml(url).length > URL_LIMIT || !/^https?:\/\//i.test(url)) return undefined;
  return url;
}

function renderHtml(lines: Line[]): string {
  return lines
    .map((line) =>
      line
        .map((span) => {
          let html = escapeHtml(span.text);
          if (span.style) html = `<${span.style}>${html}</${span.style}>`;
          if (span.href) html = `<a href="${escapeHtml(span.href)}">${html}</a>`;
          return html;
        })
        .join(""),
    )
    .join("\n");
}

function renderText(lines: Line[]): string {
  return lines
    .map((line) =>
      line
        .map((span) => (span.href && span.href !== span.text ? `${span.text} (${span.href})` : span.text))
        .join(""),
    )
    .join("\n");
}

function render(lines: Line[]): ChatMessage {
  return { html: renderHtml(lines), text: renderText(lines) };
}

const ICONS: Record<string, string> = {
  Succeeded: "✅",
  Failed: "❌",
  TimedOut: "⏱",
  Errored: "⚠️",
  Cancelled: "🚫",
};

function verb(build: Build, event: NotifyEvent): string {
  if (event === "recovery") return "Fixed";
  switch (build.status?.phase) {
    case "Succeeded":
      return "Passed";
    case "TimedOut":
      return "Timed out";
    case "Errored":
      return "Errored";
    case "Cancelled":
      return "Cancelled";
    default:
      return "Failed";
  }
}

function kubectlHint(build: Build): string {
  return `kubectl -n ${build.metadata.namespace ?? "default"} describe build ${build.metadata.name ?? ""}`;
}

/** Budgets (escaped code units) per field; their sum with the fixed text stays far below the limit. */
const BUDGET = { repository: 200, branch: 200, title: 600, author: 100, step: 100, message: 600, name: 300 };

/** The kubectl exec line into a paused build's build container. */
export function execLine(build: Build): string {
  return `kubectl exec -it ${build.status?.podName ?? `${build.metadata.name}-pod`} -c build -n ${build.metadata.namespace ?? "default"} -- sh`;
}

/** The commit: its short sha (linked to the comparison), title and author. */
function commitLine(build: Build): Line {
  const line: Line = [
    { text: shortSha(build), style: "code", href: safeURL(build.spec.revision.compareURL) },
  ];
  const title = commitTitle(build);
  if (title) line.push({ text: ` ${truncateEscaped(title, BUDGET.title)}` });
  if (build.spec.revision.author)
    line.push(
      { text: " — " },
      { text: truncateEscaped(build.spec.revision.author, BUDGET.author), style: "i" },
    );
  return line;
}

/** A sentence naming a Build, its name in code style so it can be copied into a command. */
function aboutBuild(before: string, name: string, after: string): Line {
  return [{ text: before }, { text: truncateEscaped(name, BUDGET.name), style: "code" }, { text: after }];
}

/** A build waiting at a pause: why, the exact way in, and buttons to let it go on or stop it. */
function formatPaused(a: Announcement): ChatMessage {
  const { build } = a;
  const step = build.status?.steps?.find((s) => s.phase === "Paused");
  const name = build.metadata.name ?? "";
  const lines: Line[] = [
    [
      { text: "⏸ Paused: " },
      { text: truncateEscaped(a.repository, BUDGET.repository), style: "b" },
      { text: " " },
      { text: truncateEscaped(branchOrTag(build), BUDGET.branch), style: "code" },
      { text: " " },
      { text: shortSha(build), style: "code" },
    ],
  ];
  if (step) {
    const failed = step.exitCode !== undefined && step.exitCode !== 0;
    lines.push([
      { text: failed ? "Step " : "At step " },
      { text: truncateEscaped(step.name, BUDGET.step), style: "b" },
      {
        text: failed
          ? ` failed (exit ${step.exitCode}); the pod is kept for you.`
          : "; the pod is kept for you.",
      },
    ]);
  }
  lines.push(
    [{ text: "Debug with:" }],
    [{ text: truncateEscaped(execLine(build), BUDGET.name), style: "code" }],
  );
  lines.push(aboutBuild("Or /hold ", name, " to keep it longer."));
  return {
    ...render(lines),
    buttons: [
      [
        { text: "▶️ Release", data: buttonData("release", build.metadata.uid ?? "") },
        { text: "⏹ Cancel", data: buttonData("cancel", build.metadata.uid ?? "") },
      ],
    ],
  };
}

/** A pull request from a fork that waits for an admin's approval ("ok to test"). */
function formatApproval(a: Announcement): ChatMessage {
  const { build } = a;
  const pr = build.spec.trigger.pullRequest?.number;
  const name = build.metadata.name ?? "";
  const lines: Line[] = [
    [
      { text: "🔐 Waiting for approval: " },
      { text: truncateEscaped(a.repository, BUDGET.repository), style: "b" },
      { text: ` pull request #${pr ?? "?"} from a fork` },
    ],
    commitLine(build),
  ];
  lines.push(
    aboutBuild(
      "It runs code from outside the repository. An admin approves it with /approve ",
      name,
      " (it gets no secrets either way).",
    ),
  );
  return {
    ...render(lines),
    buttons: [[{ text: "✅ Approve", data: buttonData("approve", build.metadata.uid ?? "") }]],
  };
}

/** One build's announcement, in full: finished, paused, or waiting for approval. */
export function formatAnnouncement(a: Announcement): ChatMessage {
  if (a.event === "paused") return formatPaused(a);
  if (a.event === "approval") return formatApproval(a);
  const event = a.event;
  const { build } = a;
  const icon = event === "recovery" ? "✅" : (ICONS[build.status?.phase ?? ""] ?? "ℹ️");
  const lines: Line[] = [
    [
      { text: `${icon} ${verb(build, event)}: ` },
      { text: truncateEscaped(a.repository, BUDGET.repository), style: "b" },
      { text: " " },
      { text: truncateEscaped(branchOrTag(build), BUDGET.branch), style: "code" },
    ],
  ];
  lines.push(commitLine(build));

  const details: Line = [];
  const step = failingStep(build);
  if (step && build.status?.phase !== "Succeeded") {
    details.push({ text: "Step " }, { text: truncateEscaped(step.name, BUDGET.step), style: "b" });
    details.push({ text: step.phase === "TimedOut" ? " timed out" : " failed" });
    if (step.exitCode !== undefined) details.push({ text: ` (exit ${step.exitCode})` });
  }
  const took = buildDuration(build);
  if (took)
    details.push({ text: `${details.length ? ", " : ""}${a.event === "failure" ? "after" : "in"} ${took}` });
  if (details.length) lines.push(details);
  if (build.status?.phase === "Errored" && build.status.message) {
    lines.push([{ text: truncateEscaped(build.status.message, BUDGET.message) }]);
  }
  const url = safeURL(a.url);
  lines.push(
    url
      ? [{ text: "Open build", href: url }]
      : [{ text: truncateEscaped(kubectlHint(build), BUDGET.name), style: "code" }],
  );
  return render(lines);
}

const DIGEST_LINE_BUDGET = { repository: 80, branch: 60, step: 40 };
const FOOTER_RESERVE = 120;

/** Several finished builds in one message, one line each, for a chat that fell behind. */
export function formatDigest(items: readonly Announcement[]): ChatMessage {
  const header: Line = [{ text: `🧾 ${items.length} builds finished`, style: "b" }];
  const lines: Line[] = [header];
  let size = renderHtml(lines).length;
  let shown = 0;
  for (const a of items) {
    const { build } = a;
    const icon = a.event === "recovery" ? "✅" : (ICONS[build.status?.phase ?? ""] ?? "ℹ️");
    const line: Line = [
      { text: `${icon} ` },
      { text: truncateEscaped(a.repository, DIGEST_LINE_BUDGET.repository), style: "b" },
      { text: " " },
      { text: truncateEscaped(branchOrTag(build), DIGEST_LINE_BUDGET.branch), style: "code" },
      { text: " " },
      { text: shortSha(build), style: "code", href: safeURL(a.url) },
      { text: ` ${verb(build, a.event as NotifyEvent).toLowerCase()}` },
    ];
    const step = failingStep(build);
    if (step && build.status?.phase !== "Succeeded") {
      line.push({ text: " at " }, { text: truncateEscaped(step.name, DIGEST_LINE_BUDGET.step), style: "b" });
    }
    const took = buildDuration(build);
    if (took) line.push({ text: ` (${took})` });
    const cost = renderHtml([line]).length + 1;
    if (size + cost > MESSAGE_LIMIT - FOOTER_RESERVE) break;
    lines.push(line);
    size += cost;
    shown++;
  }
  if (shown < items.length) {
    const namespace = items[0]?.build.metadata.namespace ?? "default";
    lines.push([{ text: `…and ${items.length - shown} more: kubectl -n ${namespace} get builds` }]);
  }
  return render(lines);
}
