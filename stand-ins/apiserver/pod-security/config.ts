// The PodSecurity plugin's configuration (PodSecurityConfiguration in kube's AdmissionConfiguration):
// default levels for namespaces without labels (privileged:latest for every mode unless given) and
// exemptions by username, runtime class and namespace (none unless given). Validated as kube-apiserver
// does at start: a bad configuration stops the server from starting.
import { dns1123LabelErrors, dns1123SubdomainErrors } from "../builtin-validation.ts";
import { goQuote } from "./go-text.ts";
import { type Policy, parseLevel, parseVersion } from "./levels.ts";

export interface PodSecurityConfiguration {
  defaults?: {
    enforce?: string;
    "enforce-version"?: string;
    audit?: string;
    "audit-version"?: string;
    warn?: string;
    "warn-version"?: string;
  };
  exemptions?: { usernames?: string[]; runtimeClasses?: string[]; namespaces?: string[] };
}

export interface ResolvedConfiguration {
  defaults: Policy;
  exemptions: { usernames: Set<string>; runtimeClasses: Set<string>; namespaces: Set<string> };
}

function invalid(field: string, value: string, detail: string): string {
  return `${field}: Invalid value: ${goQuote(value)}: ${detail}`;
}

function listErrors(field: string, items: string[], check: (s: string) => string[]): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const problems = check(item);
    if (problems.length > 0) errors.push(invalid(`${field}[${i}]`, item, problems.join(", ")));
    else if (seen.has(item)) errors.push(`${field}[${i}]: Duplicate value: ${goQuote(item)}`);
    else seen.add(item);
  });
  return errors;
}

/** The configuration with kube's defaults filled in; throws with every problem when it is invalid. */
export function resolveConfiguration(config: PodSecurityConfiguration = {}): ResolvedConfiguration {
  const d = config.defaults ?? {};
  const errors: string[] = [];
  const mode = (level: string | undefined, version: string | undefined, name: string) => {
    const l = parseLevel(level ?? "privileged");
    const v = parseVersion(version ?? "latest");
    if (l.error) errors.push(invalid(`defaults.${name}`, level!, l.error));
    if (v.error) errors.push(invalid(`defaults.${name}-version`, version!, v.error));
    return { level: l.level, version: v.version };
  };
  const defaults: Policy = {
    enforce: mode(d.enforce, d["enforce-version"], "enforce"),
    warn: mode(d.warn, d["warn-version"], "warn"),
    audit: mode(d.audit, d["audit-version"], "audit"),
  };
  const e = config.exemptions ?? {};
  errors.push(...listErrors("exemptions.namespaces", e.namespaces ?? [], dns1123LabelErrors));
  errors.push(...listErrors("exemptions.runtimeClasses", e.runtimeClasses ?? [], dns1123SubdomainErrors));
  errors.push(
    ...listErrors("exemptions.usernames", e.usernames ?? [], (u) =>
      u === "" ? ["username must not be empty"] : [],
    ),
  );
  if (errors.length > 0) {
    const list = errors.length === 1 ? errors[0] : `[${errors.join(", ")}]`;
    throw new Error(`PodSecurity invalid: ${list}`);
  }
  return {
    defaults,
    exemptions: {
      usernames: new Set(e.usernames ?? []),
      runtimeClasses: new Set(e.runtimeClasses ?? []),
      namespaces: new Set(e.namespaces ?? []),
    },
  };
}
