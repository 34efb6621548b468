// What the build pages show, as plain data: the list of a repository's Builds (a page of it, filtered) and
// one Build with its steps. Pure (the clock is passed in): render.ts turns a view into HTML, and the JSON
// twin of each page is the view itself, so both say exactly the same.
import { BUILD_PHASES, type Build, type BuildPhase, isFinished, type StepStatus } from "../../api/build.ts";
import { formatDuration, parseDuration } from "../../api/duration.ts";
import type { Repository } from "../../api/repository.ts";
import { HttpError } from "../../lib/http-error.ts";

export const PAGE_SIZE = 50;
/** Pages past this are refused: 10,000 Builds are 200 pages, and a number this large is a typo or a probe. */
const MAX_PAGE = 1_000_000;

export interface ListQuery {
  branch?: string;
  phase?: BuildPhase;
  /** 1-based. */
  page: number;
}

/** The list's query parameters, checked: a bad phase or page is a 400 that says what is allowed. */
export function parseListQuery(params: URLSearchParams): ListQuery {
  const query: ListQuery = { page: 1 };
  const branch = params.get("branch")?.trim();
  if (branch) query.branch = branch;
  const phase = params.get("phase")?.trim();
  if (phase) {
    if (!(BUILD_PHASES as readonly string[]).includes(phase))
      throw new HttpError(
        400,
        `phase must be one of ${BUILD_PHASES.join(", ")}; not ${JSON.stringify(phase)}`,
      );
    query.phase = phase as BuildPhase;
  }
  const page = params.get("page")?.trim();
  if (page) {
    if (!/^[0-9]+$/.test(page) || Number(page) < 1 || Number(page) > MAX_PAGE)
      throw new HttpError(400, `page must be a whole number from 1; not ${JSON.stringify(page)}`);
    query.page = Number(page);
  }
  return query;
}

export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  hasPrevious: boolean;
  hasNext: boolean;
  /** How many match: known without a filter (the list's length); with one, only up to this page. */
  total?: number;
}

/**
 * One page of a newest-first list: a slice without a filter; with one, a single pass that stops at the
 * first match past the page (enough to know there is a next page).
 */
export function pageOf<T>(
  all: readonly T[],
  page: number,
  matches?: (item: T) => boolean,
  pageSize = PAGE_SIZE,
): Page<T> {
  const start = (page - 1) * pageSize;
  if (!matches) {
    return {
      items: all.slice(start, start + pageSize),
      page,
      pageSize,
      hasPrevious: page > 1,
      hasNext: start + pageSize < all.length,
      total: all.length,
    };
  }
  const items: T[] = [];
  let seen = 0;
  let hasNext = false;
  for (const item of all) {
    if (!matches(item)) continue;
    if (seen >= start + pageSize) {
      hasNext = true;
      break;
    }
    if (seen >= start) items.push(item);
    seen++;
  }
  return { items, page, pageSize, hasPrevious: page > 1, hasNext };
}

export function buildMatches(query: ListQuery): ((b: Build) => boolean) | undefined {
  if (query.branch === undefined && query.phase === undefined) return undefined;
  return (b) =>
    (query.branch === undefined || b.spec.revision.branch === query.branch) &&
    (query.phase === undefined || (b.status?.phase ?? "Queued") === query.phase);
}

/** The list page's link with these parameters (page 1 and empty filters left out). */
export function listHref(namespace: string, repository: string, query: ListQuery): string {
  const params = new URLSearchParams();
  if (query.branch) params.set("branch", query.branch);
  if (query.phase) params.set("phase", query.phase);
  if (query.page > 1) params.set("page", String(query.page));
  const search = params.toString();
  return `/repositories/${encodeURIComponent(namespace)}/${encodeURIComponent(repository)}${search ? `?${search}` : ""}`;
}

export const buildHref = (namespace: string, name: string) =>
  `/builds/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

/** How long something took, or has taken so far; undefined when it has not started or the times do not parse. */
export function elapsed(start: string | undefined, end: string | undefined, now: number): number | undefined {
  if (!start) return undefined;
  const from = Date.parse(start);
  const to = end ? Date.parse(end) : now;
  if (Number.isNaN(from) || Number.isNaN(to)) return undefined;
  return Math.max(0, to - from);
}

export interface BuildSummary {
  namespace: string;
  name: string;
  repository: string;
  href: string;
  phase: BuildPhase;
  finished: boolean;
  reason?: string;
  message?: string;
  branch?: string;
  tag?: string;
  sha: string;
  commitMessage?: string;
  author?: string;
  trigger: string;
  created?: string;
  startTime?: string;
  completionTime?: string;
  /** Milliseconds: the build's recorded duration once finished, else how long it has run so far. */
  durationMs?: number;
  duration?: string;
}

/** What started a build, in words: "push", "pull request #7 (fork)", "manual", "catch-up". */
export function triggerText(b: Build): string {
  const t = b.spec.trigger;
  if (t.event === "pull_request" && t.pullRequest)
    return `pull request #${t.pullRequest.number}${t.pullRequest.fork ? " (fork)" : ""}`;
  return t.event.replace("_", " ");
}

export function buildSummary(b: Build, now: number): BuildSummary {
  const namespace = b.metadata.namespace ?? "";
  const name = b.metadata.name ?? "";
  const s = b.status ?? {};
  const phase = s.phase ?? "Queued";
  const recorded = s.duration ? parseDuration(s.duration) : undefined;
  const durationMs = recorded ?? elapsed(s.startTime, s.completionTime, now);
  const r = b.spec.revision;
  return {
    namespace,
    name,
    repository: b.spec.repository,
    href: buildHref(namespace, name),
    phase,
    finished: isFinished(phase),
    ...(s.reason ? { reason: s.reason } : {}),
    ...(s.message ? { message: s.message } : {}),
    ...(r.branch !== undefined ? { branch: r.branch } : {}),
    ...(r.tag !== undefined ? { tag: r.tag } : {}),
    sha: r.sha,
    ...(r.message ? { commitMessage: r.message.split("\n")[0] } : {}),
    ...(r.author ? { author: r.author } : {}),
    trigger: triggerText(b),
    ...(b.metadata.creationTimestamp ? { created: b.metadata.creationTimestamp } : {}),
    ...(s.startTime ? { startTime: s.startTime } : {}),
    ...(s.completionTime ? { completionTime: s.completionTime } : {}),
    ...(durationMs !== undefined ? { durationMs, duration: formatDuration(durationMs) } : {}),
  };
}

export interface ListView {
  kind: "list";
  namespace: string;
  repository: string;
  /** Whether a Repository of that name exists (its Builds may outlive it). */
  repositoryExists: boolean;
  github?: { owner: string; name: string };
  query: ListQuery;
  builds: BuildSummary[];
  page: number;
  pageSize: number;
  total?: number;
  previous?: string;
  next?: string;
}

export function listView(
  namespace: string,
  repository: string,
  repo: Repository | undefined,
  all: readonly Build[],
  query: ListQuery,
  now: number,
): ListView {
  const page = pageOf(all, query.page, buildMatches(query));
  return {
    kind: "list",
    namespace,
    repository,
    repositoryExists: repo !== undefined,
    ...(repo ? { github: { owner: repo.spec.github.owner, name: repo.spec.github.name } } : {}),
    query,
    builds: page.items.map((b) => buildSummary(b, now)),
    page: page.page,
    pageSize: page.pageSize,
    ...(page.total !== undefined ? { total: page.total } : {}),
    ...(page.hasPrevious
      ? { previous: listHref(namespace, repository, { ...query, page: query.page - 1 }) }
      : {}),
    ...(page.hasNext ? { next: listHref(namespace, repository, { ...query, page: query.page + 1 }) } : {}),
  };
}

export interface StepView {
  name: string;
  phase: StepStatus["phase"];
  exitCode?: number;
  durationMs?: number;
  duration?: string;
  /** The step's message: for a failed step, the tail of its output. */
  message?: string;
  failed: boolean;
}

const FAILED_STEP: ReadonlySet<StepStatus["phase"]> = new Set(["Failed", "TimedOut"]);

export function stepView(step: StepStatus, now: number): StepView {
  const durationMs = elapsed(step.startTime, step.completionTime, now);
  return {
    name: step.name,
    phase: step.phase,
    ...(step.exitCode !== undefined ? { exitCode: step.exitCode } : {}),
    ...(durationMs !== undefined ? { durationMs, duration: formatDuration(durationMs) } : {}),
    ...(step.message ? { message: step.message } : {}),
    failed: FAILED_STEP.has(step.phase),
  };
}

/** Why the page has no live log, when it has none. */
export type LogAvailability = { available: true } | { available: false; why: string };

export interface BuildView {
  kind: "build";
  build: BuildSummary;
  repositoryHref: string;
  github?: { owner: string; name: string };
  steps: StepView[];
  /** The first failed step (its message is the failing step's tail). */
  failedStep?: string;
  logs: LogAvailability;
  /** The server-sent events of the build's log, when there is a log to follow. */
  eventsHref?: string;
}

export function buildView(
  b: Build,
  repo: Repository | undefined,
  logs: LogAvailability,
  now: number,
): BuildView {
  const summary = buildSummary(b, now);
  const steps = (b.status?.steps ?? []).map((s) => stepView(s, now));
  const failed = steps.find((s) => s.failed);
  return {
    kind: "build",
    build: summary,
    repositoryHref: listHref(summary.namespace, summary.repository, { page: 1 }),
    ...(repo ? { github: { owner: repo.spec.github.owner, name: repo.spec.github.name } } : {}),
    steps,
    ...(failed ? { failedStep: failed.name } : {}),
    logs,
    ...(logs.available ? { eventsHref: `${summary.href}/events` } : {}),
  };
}
