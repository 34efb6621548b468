// The build pages as HTML, from the views of views.ts. Pure. No inline script or style (the
// Content-Security-Policy forbids both): the look is /assets/page.css, the live log /assets/build-page.js.
import { BUILD_PHASES } from "../../api/build.ts";
import { type Html, html } from "./html.ts";
import type { BuildSummary, BuildView, ListView, StepView } from "./views.ts";
import { buildHref, listHref } from "./views.ts";

export const ASSETS = {
  css: "/assets/page.css",
  script: "/assets/build-page.js",
  icon: "/assets/favicon.svg",
} as const;

function layout(title: string, body: Html, options: { script?: boolean } = {}): string {
  return `<!doctype html>\n${
    html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Kiln</title>
<link rel="stylesheet" href="${ASSETS.css}">
<link rel="icon" href="${ASSETS.icon}" type="image/svg+xml">
${options.script ? html`<script src="${ASSETS.script}" defer></script>` : ""}
</head>
<body>
<header class="top"><span class="brand">Kiln</span></header>
<main>
${body}
</main>
</body>
</html>
`.text
  }`;
}

/** The phase as a coloured badge (page.css colours it by class: red for failures, green for success). */
export function badge(phase: string): Html {
  return html`<span class="badge phase-${phase.toLowerCase()}">${phase}</span>`;
}

const UTC_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** An RFC 3339 time as "2026-12-02 20:54:11 UTC", in a <time> element. */
export function timeText(iso: string | undefined): Html {
  if (!iso) return html``;
  // The API server writes UTC to the second ("…T20:54:11Z"): shown as it is, without a Date (a list
  // renders 50); any other form goes through one.
  let text: string;
  if (UTC_SECONDS.test(iso)) text = `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
  else {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return html`${iso}`;
    text = `${new Date(t).toISOString().slice(0, 19).replace("T", " ")} UTC`;
  }
  return html`<time datetime="${iso}">${text}</time>`;
}

function refText(b: BuildSummary): Html {
  if (b.branch !== undefined) return html`<span class="ref">${b.branch}</span>`;
  if (b.tag !== undefined) return html`<span class="ref tag">${b.tag}</span>`;
  return html`<span class="ref none">—</span>`;
}

function commitText(b: BuildSummary): Html {
  return html`<code class="sha" title="${b.sha}">${b.sha.slice(0, 7)}</code>${
    b.commitMessage ? html` <span class="commit-message">${b.commitMessage}</span>` : ""
  }`;
}

export function renderList(v: ListView): string {
  const { namespace, repository, query } = v;
  const rows = v.builds.map(
    (b) => html`<tr class="build-row phase-${b.phase.toLowerCase()}">
<td><a href="${b.href}">${b.name}</a></td>
<td>${badge(b.phase)}</td>
<td>${refText(b)}</td>
<td>${commitText(b)}</td>
<td>${b.trigger}</td>
<td class="num">${b.duration ?? ""}</td>
<td>${timeText(b.created)}</td>
</tr>
`,
  );
  const pages = v.total !== undefined ? Math.max(1, Math.ceil(v.total / v.pageSize)) : undefined;
  const filtered = query.branch !== undefined || query.phase !== undefined;
  const body = html`<nav class="crumbs"><a href="/builds/${encodeURIComponent(namespace)}">${namespace}</a> / ${repository}</nav>
<h1>${repository}${v.github ? html` <small>${v.github.owner}/${v.github.name}</small>` : ""}</h1>
${v.repositoryExists ? "" : html`<p class="note">No Repository ${namespace}/${repository} exists any more; its Builds are still here.</p>`}
<form class="filter" method="get" action="${listHref(namespace, repository, { page: 1 })}">
<label>Branch <input name="branch" value="${query.branch ?? ""}" placeholder="any"></label>
<label>Phase <select name="phase"><option value="">any</option>${BUILD_PHASES.map(
    (p) => html`<option value="${p}"${query.phase === p ? html` selected` : ""}>${p}</option>`,
  )}</select></label>
<button type="submit">Filter</button>
${filtered ? html`<a href="${listHref(namespace, repository, { page: 1 })}">clear</a>` : ""}
</form>
${
  v.builds.length === 0
    ? html`<p class="empty">${filtered ? "No builds match." : v.page > 1 ? "No builds on this page." : "No builds yet."}</p>`
    : html`<table class="builds">
<thead><tr><th>Build</th><th>Phase</th><th>Branch</th><th>Commit</th><th>Trigger</th><th>Duration</th><th>Created</th></tr></thead>
<tbody>
${rows}</tbody>
</table>`
}
<nav class="pages">
${v.previous ? html`<a rel="prev" href="${v.previous}">← newer</a>` : html`<span class="off">← newer</span>`}
<span class="page-number">page ${v.page}${pages !== undefined ? ` of ${pages}` : ""}${v.total !== undefined ? ` · ${v.total} builds` : ""}</span>
${v.next ? html`<a rel="next" href="${v.next}">older →</a>` : html`<span class="off">older →</span>`}
</nav>`;
  return layout(`${namespace}/${repository}`, body);
}

function stepRow(s: StepView): Html {
  return html`<tr class="step${s.failed ? " failed" : ""}" data-step="${s.name}">
<td>${s.name}</td>
<td>${badge(s.phase)}</td>
<td class="num">${s.duration ?? ""}</td>
<td class="num">${s.exitCode ?? ""}</td>
</tr>
`;
}

export function renderBuild(v: BuildView): string {
  const b = v.build;
  const failed = v.steps.find((s) => s.name === v.failedStep);
  const logs = v.logs.available
    ? html`<section class="logs" id="logs" data-events="${v.eventsHref}" data-finished="${String(b.finished)}">
<h2>Log</h2>
<p class="log-status" id="log-status">${b.finished ? "Loading the log…" : "Following the log…"}</p>
${v.steps.map((s, i) => logSection(b, s.name, i))}
</section>`
    : html`<section class="logs" id="logs"><h2>Log</h2><p class="no-logs">No log here: ${v.logs.why}</p></section>`;
  const body = html`<nav class="crumbs"><a href="/builds/${encodeURIComponent(b.namespace)}">${b.namespace}</a> / <a href="${v.repositoryHref}">${b.repository}</a> / ${b.name}</nav>
<h1>${b.name} ${badge(b.phase)}</h1>
<dl class="facts">
<dt>Repository</dt><dd><a href="${v.repositoryHref}">${b.namespace}/${b.repository}</a>${v.github ? html` (${v.github.owner}/${v.github.name})` : ""}</dd>
<dt>Commit</dt><dd><code class="sha">${b.sha}</code>${b.commitMessage ? html` ${b.commitMessage}` : ""}${b.author ? html` <span class="author">— ${b.author}</span>` : ""}</dd>
<dt>${b.tag !== undefined ? "Tag" : "Branch"}</dt><dd>${refText(b)}</dd>
<dt>Trigger</dt><dd>${b.trigger}</dd>
<dt>Phase</dt><dd>${badge(b.phase)}${b.reason ? html` ${b.reason}` : ""}${b.message ? html`: <span class="phase-message">${b.message}</span>` : ""}</dd>
<dt>Duration</dt><dd>${b.duration ?? "—"}${b.finished ? "" : b.startTime ? " so far" : ""}</dd>
<dt>Started</dt><dd>${b.startTime ? timeText(b.startTime) : "—"}</dd>
<dt>Finished</dt><dd>${b.completionTime ? timeText(b.completionTime) : "—"}</dd>
</dl>
${
  failed
    ? html`<section class="failure"><h2>Failed at <span class="step-name">${failed.name}</span>${
        failed.exitCode !== undefined ? html` (exit code ${failed.exitCode})` : ""
      }</h2>${failed.message ? html`<pre class="tail">${failed.message}</pre>` : ""}</section>`
    : ""
}
<h2>Steps</h2>
${
  v.steps.length === 0
    ? html`<p class="empty">No steps have run yet.</p>`
    : html`<table class="steps">
<thead><tr><th>Step</th><th>Phase</th><th>Duration</th><th>Exit code</th></tr></thead>
<tbody>
${v.steps.map(stepRow)}</tbody>
</table>`
}
${logs}`;
  return layout(b.name, body, { script: v.logs.available });
}

/** One step's part of the log; the page's script fills the <pre> (and adds parts for steps that start later). */
function logSection(b: BuildSummary, step: string, index: number): Html {
  return html`<details class="step-log" id="log-${index}" data-step="${step}" open>
<summary>${step} <a class="raw" href="${buildHref(b.namespace, b.name)}/log?step=${encodeURIComponent(step)}">raw</a></summary>
<pre class="log"></pre>
</details>
`;
}

export function renderRepositories(namespace: string, repositories: string[]): string {
  const body = html`<nav class="crumbs">${namespace}</nav>
<h1>Repositories in ${namespace}</h1>
${
  repositories.length === 0
    ? html`<p class="empty">None.</p>`
    : html`<ul class="repositories">${repositories.map(
        (r) => html`<li><a href="${listHref(namespace, r, { page: 1 })}">${r}</a></li>`,
      )}</ul>`
}`;
  return layout(namespace, body);
}

/** A page for an answer that is not a page: 404 (what is missing and where to go), 400, 401, 403, 503. */
export function renderProblem(
  status: number,
  message: string,
  links: { href: string; text: string }[] = [],
): string {
  const title = TITLES[status] ?? "Something went wrong";
  const body = html`<h1>${title}</h1>
<p class="problem" data-status="${String(status)}">${message}</p>
${links.length > 0 ? html`<ul>${links.map((l) => html`<li><a href="${l.href}">${l.text}</a></li>`)}</ul>` : ""}`;
  return layout(title, body);
}

const TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Sign-in needed",
  403: "Not allowed",
  404: "Not found",
  503: "Not ready",
};
