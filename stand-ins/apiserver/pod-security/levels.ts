// Pod Security levels, policy versions and a namespace's policy from its labels, as
// k8s.io/pod-security-admission/api reads them: an unparsable enforce level means "restricted", an
// unparsable audit or warn level means "privileged" (they fail open), an unparsable version "latest";
// each such label is also an error the namespace's create or update is refused with.
import { goQuote } from "./go-text.ts";

export type Level = "privileged" | "baseline" | "restricted";

/** A policy version: the minor of v1.<minor>, or "latest" (newer than every numbered version). */
export type Version = number | "latest";

export interface LevelVersion {
  level: Level;
  version: Version;
}

export interface Policy {
  enforce: LevelVersion;
  audit: LevelVersion;
  warn: LevelVersion;
}

/** One bad label, as apimachinery's field.Invalid has it. */
export interface FieldError {
  field: string;
  value: string;
  detail: string;
}

const PREFIX = "pod-security.kubernetes.io/";
export const LABELS = {
  enforce: `${PREFIX}enforce`,
  enforceVersion: `${PREFIX}enforce-version`,
  audit: `${PREFIX}audit`,
  auditVersion: `${PREFIX}audit-version`,
  warn: `${PREFIX}warn`,
  warnVersion: `${PREFIX}warn-version`,
} as const;
export const AUDIT_ANNOTATION_PREFIX = PREFIX;

const LEVELS: Level[] = ["privileged", "baseline", "restricted"];
const VERSION = /^v1\.([0-9]|[1-9][0-9]*)$/;

export function parseLevel(text: string): { level: Level; error?: string } {
  if ((LEVELS as string[]).includes(text)) return { level: text as Level };
  return { level: "restricted", error: `must be one of ${LEVELS.join(", ")}` };
}

export function parseVersion(text: string): { version: Version; error?: string } {
  if (text === "latest") return { version: "latest" };
  const match = VERSION.exec(text);
  if (!match) return { version: "latest", error: `must be "latest" or "v1.x"` };
  return { version: Number(match[1]) };
}

export function versionString(v: Version): string {
  return v === "latest" ? "latest" : `v1.${v}`;
}

export function levelVersionString(lv: LevelVersion): string {
  return `${lv.level}:${versionString(lv.version)}`;
}

/** Whether a is older than b ("latest" is never older, and newer than every number). */
export function olderVersion(a: Version, b: Version): boolean {
  if (a === "latest") return false;
  return b === "latest" || a < b;
}

export function sameLevelVersion(a: LevelVersion, b: LevelVersion): boolean {
  return a.level === b.level && a.version === b.version;
}

/** Both privileged (whatever the versions), or the same level and version. */
export function equivalentLevelVersion(a: LevelVersion, b: LevelVersion): boolean {
  return (a.level === "privileged" && b.level === "privileged") || sameLevelVersion(a, b);
}

export function equivalentPolicy(a: Policy, b: Policy): boolean {
  return (
    equivalentLevelVersion(a.enforce, b.enforce) &&
    equivalentLevelVersion(a.audit, b.audit) &&
    equivalentLevelVersion(a.warn, b.warn)
  );
}

export function fullyPrivileged(p: Policy): boolean {
  return p.enforce.level === "privileged" && p.audit.level === "privileged" && p.warn.level === "privileged";
}

/** -1, 0 or 1 as a is less strict than, as strict as or stricter than b. */
export function compareLevels(a: Level, b: Level): number {
  return Math.sign(LEVELS.indexOf(a) - LEVELS.indexOf(b));
}

/** field.Error's text: `<field>: Invalid value: "<value>": <detail>`. */
export function fieldErrorText(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

export function fieldErrorBody(e: FieldError): string {
  return `Invalid value: ${goQuote(e.value)}: ${e.detail}`;
}

function labelError(label: string, value: string, detail: string): FieldError {
  return { field: `metadata.labels[${label}]`, value, detail };
}

/**
 * The policy a namespace's labels ask for, over the configured defaults, with an error per bad label.
 * A warn level left unset follows an explicitly set, stricter enforce level (and its version, unless a
 * warn version is set).
 */
export function policyToEvaluate(
  labels: Record<string, string> | undefined,
  defaults: Policy,
): { policy: Policy; errors: FieldError[] } {
  const p: Policy = {
    enforce: { ...defaults.enforce },
    audit: { ...defaults.audit },
    warn: { ...defaults.warn },
  };
  const errors: FieldError[] = [];
  if (!labels || Object.keys(labels).length === 0) return { policy: p, errors };
  const has = (key: string) => Object.hasOwn(labels, key);
  let hasEnforceLevel = false;

  const level = (key: string, mode: keyof Policy, failOpen: boolean): boolean => {
    if (!has(key)) return false;
    const parsed = parseLevel(labels[key]!);
    p[mode].level = parsed.error && failOpen ? "privileged" : parsed.level;
    if (parsed.error) errors.push(labelError(key, labels[key]!, parsed.error));
    return parsed.error === undefined;
  };
  const version = (key: string, mode: keyof Policy): void => {
    if (!has(key)) return;
    const parsed = parseVersion(labels[key]!);
    p[mode].version = parsed.version;
    if (parsed.error) errors.push(labelError(key, labels[key]!, parsed.error));
  };

  hasEnforceLevel = level(LABELS.enforce, "enforce", false);
  version(LABELS.enforceVersion, "enforce");
  level(LABELS.audit, "audit", true);
  version(LABELS.auditVersion, "audit");
  level(LABELS.warn, "warn", true);
  version(LABELS.warnVersion, "warn");

  if (!has(LABELS.warn) && hasEnforceLevel && compareLevels(p.enforce.level, p.warn.level) > 0) {
    p.warn.level = p.enforce.level;
    if (!has(LABELS.warnVersion)) p.warn.version = p.enforce.version;
  }
  return { policy: p, errors };
}
