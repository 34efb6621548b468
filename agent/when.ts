// Branch filters of steps (`when.branches`): globs where `*` stays within one path segment and
// `**` crosses them, as in Repository.spec.branches.
import type { Step } from "./manifest-schema.ts";

export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export function branchMatches(patterns: readonly string[], branch: string): boolean {
  return patterns.some((p) => globToRegExp(p).test(branch));
}

/** Why a step is skipped on this branch, or undefined when it runs. */
export function skipReason(step: Step, branch: string | undefined): string | undefined {
  const patterns = step.when?.branches;
  if (!patterns) return undefined;
  if (branch === undefined)
    return `skipped: runs only on branches ${patterns.join(", ")} and this build has no branch`;
  if (branchMatches(patterns, branch)) return undefined;
  return `skipped: runs only on branches ${patterns.join(", ")}, not on ${branch}`;
}
