// kube's DefaultRuleResolver (pkg/registry/rbac/validation/rule.go): the rules that apply to a user in
// a namespace — ClusterRoleBindings first, then the RoleBindings of that namespace — each with the
// binding and subject it came from. Bindings are indexed by subject and the index is rebuilt lazily
// after any RBAC write (through the store's listen hook), so a request costs a few map lookups.
import type { Store } from "../storage.ts";
import type { PolicyRule } from "./rules.ts";
import {
  type BindingObject,
  COLLECTIONS,
  RBAC_COLLECTIONS,
  type RoleObject,
  type RoleRef,
  type Subject,
} from "./types.ts";
import { serviceAccountUsername, type UserInfo } from "./user.ts";

/** A role reference that could not be resolved. */
export type ResolutionError =
  | { reason: "NotFound"; kind: "Role" | "ClusterRole"; name: string }
  | { reason: "UnsupportedKind"; kind: string };

/** Calls back with each rule (and its source's description), or an error; false stops the visit. */
export type RuleVisitor = (
  source: () => string,
  rule: PolicyRule | undefined,
  error?: ResolutionError,
) => boolean;

interface IndexedBinding {
  binding: BindingObject;
  clusterWide: boolean;
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === "ServiceAccount")
    return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

function describe(b: BindingObject, subject: Subject): string {
  const role = `${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)}`;
  if (b.metadata.namespace === undefined)
    return `ClusterRoleBinding ${JSON.stringify(b.metadata.name)} of ${role} to ${describeSubject(subject, "")}`;
  const ns = b.metadata.namespace;
  return `RoleBinding ${JSON.stringify(`${b.metadata.name}/${ns}`)} of ${role} to ${describeSubject(subject, ns)}`;
}

/** appliesToUser: User by name, Group by membership, ServiceAccount by its username. */
export function subjectApplies(user: UserInfo, s: Subject, namespace: string): boolean {
  switch (s.kind) {
    case "User":
      return user.username === s.name;
    case "Group":
      return user.groups.includes(s.name);
    case "ServiceAccount": {
      const ns = s.namespace || namespace;
      return ns !== "" && user.username === serviceAccountUsername(ns, s.name);
    }
    default:
      return false;
  }
}

/** Index keys of a subject: its username or group. */
function subjectKey(s: Subject, namespace: string): string | undefined {
  if (s.kind === "User") return `u:${s.name}`;
  if (s.kind === "Group") return `g:${s.name}`;
  if (s.kind === "ServiceAccount") {
    const ns = s.namespace || namespace;
    return ns ? `u:${serviceAccountUsername(ns, s.name)}` : undefined;
  }
  return undefined;
}

const byName = (a: IndexedBinding, b: IndexedBinding) =>
  a.binding.metadata.name! < b.binding.metadata.name! ? -1 : 1;

export class RuleResolver {
  private readonly store: Store;
  private dirty = true;
  private clusterRoles = new Map<string, RoleObject>();
  private roles = new Map<string, RoleObject>();
  private clusterBindings = new Map<string, IndexedBinding[]>();
  private namespaceBindings = new Map<string, Map<string, IndexedBinding[]>>();
  private readonly stop: () => void;

  constructor(store: Store) {
    this.store = store;
    this.stop = store.listen((c) => {
      if (RBAC_COLLECTIONS.has(c.name)) this.dirty = true;
    });
  }

  close(): void {
    this.stop();
  }

  private rebuild(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const list = (collection: string) => this.store.collection(collection).list();
    this.clusterRoles = new Map(list(COLLECTIONS.clusterRoles).map((r) => [r.metadata.name!, r]));
    this.roles = new Map(
      list(COLLECTIONS.roles).map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r]),
    );
    const add = (index: Map<string, IndexedBinding[]>, key: string, entry: IndexedBinding) => {
      const entries = index.get(key);
      if (!entries) index.set(key, [entry]);
      else if (entries.at(-1) !== entry) entries.push(entry);
    };
    this.clusterBindings = new Map();
    for (const b of list(COLLECTIONS.clusterRoleBindings) as BindingObject[]) {
      const entry = { binding: b, clusterWide: true };
      for (const s of b.subjects ?? []) {
        const k = subjectKey(s, "");
        if (k) add(this.clusterBindings, k, entry);
      }
    }
    this.namespaceBindings = new Map();
    for (const b of list(COLLECTIONS.roleBindings) as BindingObject[]) {
      const ns = b.metadata.namespace!;
      let index = this.namespaceBindings.get(ns);
      if (!index) {
        index = new Map();
        this.namespaceBindings.set(ns, index);
      }
      const entry = { binding: b, clusterWide: false };
      for (const s of b.subjects ?? []) {
        const k = subjectKey(s, ns);
        if (k) add(index, k, entry);
      }
    }
  }

  private candidates(index: Map<string, IndexedBinding[]> | undefined, user: UserInfo): IndexedBinding[] {
    if (!index) return [];
    const found = new Set<IndexedBinding>();
    for (const key of [`u:${user.username}`, ...user.groups.map((g) => `g:${g}`)])
      for (const e of index.get(key) ?? []) found.add(e);
    return [...found].sort(byName);
  }

  /** GetRoleReferenceRules: the rules of the referenced Role (in `namespace`) or ClusterRole. */
  roleRules(ref: RoleRef, namespace: string): PolicyRule[] | ResolutionError {
    this.rebuild();
    if (ref.kind === "Role") {
      const role = namespace ? this.roles.get(`${namespace}/${ref.name}`) : undefined;
      return role ? (role.rules ?? []) : { reason: "NotFound", kind: "Role", name: ref.name };
    }
    if (ref.kind === "ClusterRole") {
      const role = this.clusterRoles.get(ref.name);
      return role ? (role.rules ?? []) : { reason: "NotFound", kind: "ClusterRole", name: ref.name };
    }
    return { reason: "UnsupportedKind", kind: ref.kind };
  }

  clusterRole(name: string): RoleObject | undefined {
    this.rebuild();
    return this.clusterRoles.get(name);
  }

  visitRulesFor(user: UserInfo, namespace: string, visit: RuleVisitor): void {
    this.rebuild();
    const scopes: [IndexedBinding[], string][] = [[this.candidates(this.clusterBindings, user), ""]];
    if (namespace) scopes.push([this.candidates(this.namespaceBindings.get(namespace), user), namespace]);
    for (const [bindings, ns] of scopes) {
      for (const { binding } of bindings) {
        const subject = (binding.subjects ?? []).find((s) => subjectApplies(user, s, ns));
        if (!subject) continue;
        const rules = this.roleRules(binding.roleRef, ns);
        if (!Array.isArray(rules)) {
          if (!visit(() => "", undefined, rules)) return;
          continue;
        }
        const source = () => describe(binding, subject);
        for (const rule of rules) if (!visit(source, rule)) return;
      }
    }
  }

  /** Every rule that applies, and the resolution errors met on the way. */
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: ResolutionError[] } {
    const rules: PolicyRule[] = [];
    const errors: ResolutionError[] = [];
    this.visitRulesFor(user, namespace, (_source, rule, error) => {
      if (rule) rules.push(rule);
      if (error) errors.push(error);
      return true;
    });
    return { rules, errors };
  }
}

/** The authorizer's listers name a missing role by its singular resource (`clusterrole.rbac…`). */
export function listerErrorText(e: ResolutionError): string {
  if (e.reason === "UnsupportedKind") return `unsupported role reference kind: ${JSON.stringify(e.kind)}`;
  return `${e.kind.toLowerCase()}.rbac.authorization.k8s.io ${JSON.stringify(e.name)} not found`;
}

/** The registry's storage names it by its plural resource (`clusterroles.rbac…`). */
export function registryErrorText(e: ResolutionError): string {
  if (e.reason === "UnsupportedKind") return `unsupported role reference kind: ${JSON.stringify(e.kind)}`;
  return `${e.kind.toLowerCase()}s.rbac.authorization.k8s.io ${JSON.stringify(e.name)} not found`;
}

/** utilerrors.NewAggregate(...).Error(): one message alone, several (deduplicated) in brackets. */
export function aggregateText(messages: string[]): string {
  const unique = [...new Set(messages)];
  if (unique.length === 1) return unique[0]!;
  return `[${unique.join(", ")}]`;
}
