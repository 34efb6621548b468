// Pure: the fake's few web pages of a git-backed repository, where its links (html_url, compare) point:
// the repository (branches), a commit with its commit statuses, and a compare of two commits. Plain
// HTML, every value escaped; the commit page reloads itself so statuses show up as Kiln posts them.
import type { CommitStatus } from "./model.ts";

export interface PageCommit {
  sha: string;
  message: string;
  author: { name: string; email: string; date: string };
  parents: string[];
}

const ICON: Record<CommitStatus["state"], string> = {
  pending: "🟡",
  success: "✅",
  failure: "❌",
  error: "⚠️",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string, refreshSeconds?: number): string {
  const refresh = refreshSeconds ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${refresh}<title>${escapeHtml(title)}</title>
<style>body{font:14px/1.5 system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em}
code,pre{font:13px ui-monospace,monospace}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}</style>
</head><body>
${body}
</body></html>
`;
}

const link = (href: string, text: string) => `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;

function commitRow(web: string, commit: PageCommit): string {
  const title = commit.message.split("\n")[0] ?? "";
  return `<tr><td><code>${link(`${web}/commit/${commit.sha}`, commit.sha.slice(0, 7))}</code></td><td>${escapeHtml(title)}</td><td>${escapeHtml(commit.author.name)}</td><td>${escapeHtml(commit.author.date)}</td></tr>`;
}

/** The repository: its branches and the commit each names. */
export function repositoryPage(
  fullName: string,
  web: string,
  cloneURL: string,
  branches: ReadonlyArray<{ name: string; commit: PageCommit }>,
): string {
  const rows = branches.map(
    ({ name, commit }) =>
      `<tr><td><code>${escapeHtml(name)}</code></td>${commitRow(web, commit).slice("<tr>".length)}`,
  );
  return page(
    fullName,
    `<h1>${escapeHtml(fullName)}</h1>
<p><code>git clone ${escapeHtml(cloneURL)}</code></p>
${rows.length ? `<table><tr><th>branch</th><th>commit</th><th>message</th><th>author</th><th>date</th></tr>\n${rows.join("\n")}</table>` : "<p>Nothing pushed yet.</p>"}`,
  );
}

/**
 * A commit and its commit statuses: the newest of each context first (as GitHub's checks box shows
 * them), then every status in the order they came.
 */
export function commitPage(
  fullName: string,
  web: string,
  commit: PageCommit,
  statuses: readonly CommitStatus[],
): string {
  const latest = new Map<string, CommitStatus>();
  for (const status of statuses) latest.set(status.context, status);
  const row = (s: CommitStatus, when: boolean) =>
    `<tr><td>${ICON[s.state]} ${escapeHtml(s.state)}</td><td><code>${escapeHtml(s.context)}</code></td><td>${escapeHtml(s.description ?? "")}</td><td>${s.target_url ? link(s.target_url, s.target_url) : ""}</td>${when ? `<td>${escapeHtml(s.created_at)}</td>` : ""}</tr>`;
  const head = (when: boolean) =>
    `<tr><th>state</th><th>context</th><th>description</th><th>target</th>${when ? "<th>at</th>" : ""}</tr>`;
  const [title, ...rest] = commit.message.split("\n");
  const parents = commit.parents.map((p) => `<code>${link(`${web}/commit/${p}`, p.slice(0, 7))}</code>`);
  return page(
    `${title} · ${fullName}@${commit.sha.slice(0, 7)}`,
    `<p>${link(web, fullName)}</p>
<h1>${escapeHtml(title ?? "")}</h1>
${rest.join("\n").trim() ? `<pre>${escapeHtml(rest.join("\n").trim())}</pre>` : ""}
<p><code>${commit.sha}</code> by ${escapeHtml(commit.author.name)} &lt;${escapeHtml(commit.author.email)}&gt;, ${escapeHtml(commit.author.date)}${parents.length ? `; parent ${parents.join(", ")}` : ""}</p>
<h2>Commit statuses</h2>
${
  latest.size
    ? `<table id="statuses">${head(false)}\n${[...latest.values()].map((s) => row(s, false)).join("\n")}</table>
<h3>History</h3>
<table id="history">${head(true)}\n${statuses.map((s) => row(s, true)).join("\n")}</table>`
    : "<p>No commit statuses yet.</p>"
}`,
    5,
  );
}

/** The commits of a compare (base...head), oldest first. */
export function comparePage(
  fullName: string,
  web: string,
  spec: string,
  commits: readonly PageCommit[],
): string {
  return page(
    `${spec} · ${fullName}`,
    `<p>${link(web, fullName)}</p>
<h1>Comparing <code>${escapeHtml(spec)}</code></h1>
${commits.length ? `<table><tr><th>commit</th><th>message</th><th>author</th><th>date</th></tr>\n${commits.map((c) => commitRow(web, c)).join("\n")}</table>` : "<p>No commits.</p>"}`,
  );
}
