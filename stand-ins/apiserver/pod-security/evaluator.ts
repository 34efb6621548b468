// Which checks a level and version run, in kube's order, and their results aggregated into the texts
// kube prints (the policy package's checkRegistry and AggregateCheckResults). Per version v1.0 up to
// the newest version any check names: each check's newest revision not newer than it; restricted adds
// its own checks to the baseline ones it does not replace. "latest" and newer versions run the newest.
import { ALLOWED, type Check, type CheckPod, type CheckResult, type VersionedCheck } from "./check.ts";
import { BASELINE_CHECKS } from "./checks-baseline.ts";
import { HOST_CHECKS } from "./checks-host.ts";
import { RESTRICTED_CHECKS } from "./checks-restricted.ts";
import { byteOrder } from "./go-text.ts";
import type { LevelVersion } from "./levels.ts";
import type { PodMetadata, PodSpec } from "./pod-spec.ts";

export const DEFAULT_CHECKS: Check[] = [...HOST_CHECKS, ...BASELINE_CHECKS, ...RESTRICTED_CHECKS];

export interface AggregateResult {
  allowed: boolean;
  reasons: string[];
  details: string[];
}

export interface Evaluator {
  /** The newest version any check names: later versions (and "latest") evaluate as this one. */
  readonly maxVersion: number;
  evaluatePod(lv: LevelVersion, metadata: PodMetadata, spec: PodSpec): CheckResult[];
}

function revisionAt(check: Check, minor: number): VersionedCheck | undefined {
  let found: VersionedCheck | undefined;
  for (const v of check.versions) if (v.minimumVersion <= minor) found = v;
  return found;
}

export function newEvaluator(checks: Check[] = DEFAULT_CHECKS): Evaluator {
  const maxVersion = Math.max(0, ...checks.map((c) => c.versions.at(-1)!.minimumVersion));
  const byId = (level: Check["level"]) =>
    checks.filter((c) => c.level === level).sort((a, b) => byteOrder(a.id, b.id));
  // Baseline checks first, then restricted ones, each sorted by id, so messages read the same every time.
  const ordered = [...byId("baseline"), ...byId("restricted")];
  const baseline: CheckPod[][] = [];
  const restricted: CheckPod[][] = [];
  for (let minor = 0; minor <= maxVersion; minor++) {
    const overridden = new Set<string>();
    for (const c of ordered) {
      if (c.level === "restricted")
        for (const id of revisionAt(c, minor)?.overrides ?? []) overridden.add(id);
    }
    baseline[minor] = [];
    restricted[minor] = [];
    for (const c of ordered) {
      const revision = revisionAt(c, minor);
      if (!revision) continue;
      if (c.level === "baseline") baseline[minor]!.push(revision.checkPod);
      if (c.level === "restricted" || !overridden.has(c.id)) restricted[minor]!.push(revision.checkPod);
    }
  }
  return {
    maxVersion,
    evaluatePod(lv, metadata, spec) {
      if (lv.level === "privileged") return [];
      const minor = lv.version === "latest" || lv.version > maxVersion ? maxVersion : lv.version;
      const table = lv.level === "baseline" ? baseline : restricted;
      return table[minor]!.map((check) => check(metadata, spec) ?? ALLOWED);
    },
  };
}

export function aggregate(results: CheckResult[]): AggregateResult {
  const refused = results.filter((r) => !r.allowed);
  return {
    allowed: refused.length === 0,
    reasons: refused.map((r) => r.reason || "unknown forbidden reason"),
    details: refused.map((r) => r.detail ?? ""),
  };
}

/** "host ports, privileged": what a namespace-wide check prints per pod. */
export function forbiddenReason(a: AggregateResult): string {
  return a.reasons.join(", ");
}

/** `host ports (8080), privileged (container "a" must not …)`: what a single object's check prints. */
export function forbiddenDetail(a: AggregateResult): string {
  return a.reasons.map((r, i) => (a.details[i] ? `${r} (${a.details[i]})` : r)).join(", ");
}
