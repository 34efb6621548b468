// Pure: the webhook a Repository asks for, and what to do about the hooks GitHub has. Kiln's hook is the
// one whose URL is Kiln's; there is never more than one (extras are deleted).
import { createHmac } from "node:crypto";
import { REPOSITORY_PARAM } from "../../api/hook-url.ts";
import type { Repository } from "../../api/repository.ts";

export interface DesiredHook {
  url: string;
  events: string[];
  secret: string;
  content_type: "json";
  insecure_ssl: "0";
  active: true;
}

/** A hook as GitHub lists it (the secret comes back masked, if at all). */
export interface ExistingHook {
  id: number;
  active: boolean;
  events: string[];
  config: { url?: string; content_type?: string; insecure_ssl?: string | number; secret?: string };
}

export type HookPlan =
  | { action: "create"; hook: DesiredHook; remove: number[] }
  | { action: "update"; id: number; hook: DesiredHook; remove: number[] }
  | { action: "keep"; id: number; remove: number[] };

/**
 * The URL Kiln registers: the configured one with `?repository=<namespace>/<name>`, so each Repository has
 * its own hook even when two watch the same GitHub repository, and the webhook server knows which one a
 * delivery is for.
 */
export function hookURL(repository: Repository, defaultURL: string | undefined): string | undefined {
  const base = repository.spec.webhook?.url ?? defaultURL;
  if (!base) return undefined;
  const url = new URL(base);
  url.searchParams.set(
    REPOSITORY_PARAM,
    `${repository.metadata.namespace ?? "default"}/${repository.metadata.name}`,
  );
  return url.toString();
}

export function desiredHook(
  repository: Repository,
  defaultURL: string | undefined,
  secret: string,
): DesiredHook | string {
  const webhook = repository.spec.webhook;
  if (!webhook) return "spec.webhook is not set";
  const url = hookURL(repository, defaultURL);
  if (!url) return "spec.webhook.url is not set and the controller has no --webhook-url";
  return {
    url,
    events: [...new Set(webhook.events)].sort(),
    secret,
    content_type: "json",
    insecure_ssl: "0",
    active: true,
  };
}

/**
 * A short keyed fingerprint of the secret a hook was given. GitHub never shows a hook's secret, so this
 * (kept in an annotation) is how a changed Secret is noticed. Keyed by the hook id and cut to 8 hex
 * digits, it says nothing useful about the secret itself.
 */
export function secretFingerprint(hookID: number, secret: string): string {
  return createHmac("sha256", `kiln-hook-${hookID}`).update(secret).digest("hex").slice(0, 8);
}

function sameConfig(existing: ExistingHook, desired: DesiredHook): boolean {
  return (
    existing.active === desired.active &&
    [...existing.events].sort().join(",") === desired.events.join(",") &&
    existing.config.content_type === desired.content_type &&
    String(existing.config.insecure_ssl ?? "0") === desired.insecure_ssl &&
    existing.config.secret !== undefined // a hook without a secret sends unsigned deliveries
  );
}

/**
 * knownID: the hook id recorded in status (found first, even if its URL changed with the spec);
 * fingerprint: the recorded fingerprint of the secret the hook was last given.
 */
export function planHook(
  desired: DesiredHook,
  existing: readonly ExistingHook[],
  knownID: number | undefined,
  fingerprint: string | undefined,
): HookPlan {
  const ours = existing.filter((hook) => hook.id === knownID || hook.config.url === desired.url);
  // Prefer the recorded hook, then the oldest (lowest id); the rest are duplicates.
  ours.sort((a, b) => Number(b.id === knownID) - Number(a.id === knownID) || a.id - b.id);
  const [keep, ...extra] = ours;
  const remove = extra.map((hook) => hook.id);
  if (!keep) return { action: "create", hook: desired, remove };
  const current =
    keep.config.url === desired.url &&
    sameConfig(keep, desired) &&
    fingerprint === secretFingerprint(keep.id, desired.secret);
  return current
    ? { action: "keep", id: keep.id, remove }
    : { action: "update", id: keep.id, hook: desired, remove };
}
