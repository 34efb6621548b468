// What a Pod Security check is (the policy package's Check): an id, the level it belongs to, and one
// revision per policy version it changed in. A restricted revision may replace baseline checks.
import { joinQuote, pluralize } from "./go-text.ts";
import type { PodMetadata, PodSpec } from "./pod-spec.ts";

export interface CheckResult {
  allowed: boolean;
  /** Short, always shown: "host ports", "runAsNonRoot != true". */
  reason?: string;
  /** What exactly, shown for a single pod: `container "a" must set …`. */
  detail?: string;
}

export type CheckPod = (metadata: PodMetadata, spec: PodSpec) => CheckResult;

export interface VersionedCheck {
  /** The first v1.<minor> this revision applies to. */
  minimumVersion: number;
  checkPod: CheckPod;
  /** Baseline check ids this (restricted) revision replaces. */
  overrides?: string[];
}

export interface Check {
  id: string;
  level: "baseline" | "restricted";
  /** Strictly increasing minimum versions. */
  versions: VersionedCheck[];
}

export const ALLOWED: CheckResult = { allowed: true };

export function refuse(reason: string, detail: string): CheckResult {
  return { allowed: false, reason, detail };
}

/** `container "a"` / `containers "a", "b"`. */
export function containersPhrase(names: string[]): string {
  return `${pluralize("container", "containers", names.length)} ${joinQuote(names)}`;
}
