// Pure: which failed deliveries to ask GitHub to redeliver. GitHub does not retry by itself. Each
// delivery (GUID) is redelivered at most once: a GUID that already has a redelivery attempt, or any
// successful attempt, is left alone — the record of that lives in GitHub, so restarts do not repeat it.
// Only failures a retry can fix: no connection or timeout (0), 429 and 5xx; a 4xx (bad signature,
// unknown repository) would fail again.

export interface DeliveryItem {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  status_code: number;
}

/** GitHub accepts redelivery requests for deliveries of the past 3 days. */
export const REDELIVERY_WINDOW_MS = 3 * 24 * 3600 * 1000;

function retryable(code: number): boolean {
  return code === 0 || code === 429 || code >= 500;
}

export function deliveriesToRedeliver(
  deliveries: readonly DeliveryItem[],
  alreadyAsked: ReadonlySet<string>,
  now: number,
): DeliveryItem[] {
  const byGuid = new Map<string, DeliveryItem[]>();
  for (const d of deliveries) byGuid.set(d.guid, [...(byGuid.get(d.guid) ?? []), d]);
  const chosen: DeliveryItem[] = [];
  for (const [guid, attempts] of byGuid) {
    if (alreadyAsked.has(guid)) continue;
    if (attempts.some((a) => a.redelivery || (a.status_code >= 200 && a.status_code < 300))) continue;
    const latest = attempts.reduce((a, b) => (b.id > a.id ? b : a));
    if (!retryable(latest.status_code)) continue;
    if (now - Date.parse(latest.delivered_at) > REDELIVERY_WINDOW_MS) continue;
    chosen.push(latest);
  }
  return chosen.sort((a, b) => a.id - b.id);
}

/**
 * Whether a failed delivery's commit already has a Build (catch-up got there first): redelivering it
 * would build the same commit twice.
 */
export function alreadyBuilt(
  event: string,
  payload: unknown,
  builds: ReadonlyArray<{
    spec: { revision: { sha: string }; trigger: { pullRequest?: { number: number } } };
  }>,
): boolean {
  const p = payload as {
    after?: unknown;
    number?: unknown;
    pull_request?: { head?: { sha?: unknown } };
  } | null;
  if (event === "push" && typeof p?.after === "string")
    return builds.some((b) => b.spec.revision.sha === p.after);
  if (event === "pull_request" && typeof p?.pull_request?.head?.sha === "string") {
    const sha = p.pull_request.head.sha;
    return builds.some((b) => b.spec.revision.sha === sha && b.spec.trigger.pullRequest?.number === p.number);
  }
  return false;
}
