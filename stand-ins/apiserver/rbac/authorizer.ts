// The authorizer chain of this server: kube's privileged-group authorizer (system:masters may do
// anything, reason "") in front of the RBAC authorizer (rbac.go), whose answer is "allowed by <source>"
// or no opinion (with the role resolution errors as the reason).
import type { Attributes } from "./attributes.ts";
import { aggregateText, listerErrorText, type RuleResolver } from "./resolver.ts";
import { type PolicyRule, ruleAllows } from "./rules.ts";
import { isPrivileged, type UserInfo } from "./user.ts";

export interface Decision {
  allowed: boolean;
  reason: string;
}

export interface ResourceRuleInfo {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
}

export interface NonResourceRuleInfo {
  verbs: string[];
  nonResourceURLs: string[];
}

export interface RulesInfo {
  resourceRules: ResourceRuleInfo[];
  nonResourceRules: NonResourceRuleInfo[];
  incomplete: boolean;
  evaluationError?: string;
}

export class Authorizer {
  readonly resolver: RuleResolver;

  constructor(resolver: RuleResolver) {
    this.resolver = resolver;
  }

  authorize(a: Attributes): Decision {
    if (isPrivileged(a.user)) return { allowed: true, reason: "" };
    let reason = "";
    const errors: string[] = [];
    this.resolver.visitRulesFor(a.user, a.namespace ?? "", (source, rule, error) => {
      if (rule && ruleAllows(a, rule)) {
        reason = `RBAC: allowed by ${source()}`;
        return false;
      }
      if (error) errors.push(listerErrorText(error));
      return true;
    });
    if (reason) return { allowed: true, reason };
    return { allowed: false, reason: errors.length > 0 ? `RBAC: ${aggregateText(errors)}` : "" };
  }

  /** RBACAuthorizer.RulesFor, as a SelfSubjectRulesReview reports it. */
  rulesFor(user: UserInfo, namespace: string): RulesInfo {
    const { rules, errors } = this.resolver.rulesFor(user, namespace);
    return {
      ...splitRules(rules),
      incomplete: false,
      ...(errors.length > 0 ? { evaluationError: aggregateText(errors.map(listerErrorText)) } : {}),
    };
  }
}

export function splitRules(rules: PolicyRule[]): Pick<RulesInfo, "resourceRules" | "nonResourceRules"> {
  const resourceRules: ResourceRuleInfo[] = [];
  const nonResourceRules: NonResourceRuleInfo[] = [];
  for (const r of rules) {
    if ((r.resources ?? []).length > 0)
      resourceRules.push({
        verbs: r.verbs,
        apiGroups: r.apiGroups ?? [],
        resources: r.resources ?? [],
        resourceNames: r.resourceNames ?? [],
      });
    if ((r.nonResourceURLs ?? []).length > 0)
      nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs ?? [] });
  }
  return { resourceRules, nonResourceRules };
}
