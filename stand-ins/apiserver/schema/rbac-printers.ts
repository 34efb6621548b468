// kube's printers (pkg/printers/internalversion) for the RBAC kinds: Roles and ClusterRoles show their
// creation time, bindings their role and (wide) their subjects. Server-side printing always renders the
// wide columns (priority 1), as kube-apiserver does.
import { isPlainObject } from "./go-format.ts";
import { age, CREATION_TIMESTAMP_DESCRIPTION, NAME_COLUMN, type TableColumnDefinition } from "./table.ts";

type Obj = Record<string, unknown>;
type Printer = { columns: TableColumnDefinition[]; cells: (obj: Obj, now: Date) => unknown[] };

const column = (name: string, description: string, priority = 0, type = "string"): TableColumnDefinition => ({
  name,
  type,
  format: "",
  description,
  priority,
});

const get = (obj: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, key) => (isPlainObject(v) ? v[key] : undefined), obj);
const str = (value: unknown): string => (typeof value === "string" ? value : "");
const name = (obj: Obj) => str(get(obj, "metadata", "name"));

/** metav1.Time in RFC 3339, the zero time when unset. */
function createdAt(obj: Obj): string {
  const ms = Date.parse(str(get(obj, "metadata", "creationTimestamp")));
  return Number.isNaN(ms) ? "0001-01-01T00:00:00Z" : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const ROLE: Printer = {
  columns: [NAME_COLUMN, column("Created At", CREATION_TIMESTAMP_DESCRIPTION, 0, "date")],
  cells: (obj) => [name(obj), createdAt(obj)],
};

/** rbac.SubjectsStrings: users, groups, service accounts (`namespace/name`), each joined by ", ". */
function subjects(obj: Obj): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const accounts: string[] = [];
  for (const s of Array.isArray(obj.subjects) ? (obj.subjects as Obj[]) : []) {
    if (s.kind === "User") users.push(str(s.name));
    else if (s.kind === "Group") groups.push(str(s.name));
    else if (s.kind === "ServiceAccount")
      accounts.push(s.namespace ? `${str(s.namespace)}/${str(s.name)}` : str(s.name));
  }
  return [users.join(", "), groups.join(", "), accounts.join(", ")];
}

const BINDING: Printer = {
  columns: [
    NAME_COLUMN,
    column(
      "Role",
      "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.",
    ),
    column("Age", CREATION_TIMESTAMP_DESCRIPTION),
    column("Users", "Users in the roleBinding", 1),
    column("Groups", "Groups in the roleBinding", 1),
    column("ServiceAccounts", "ServiceAccounts in the roleBinding", 1),
  ],
  cells: (obj, now) => [
    name(obj),
    `${str(get(obj, "roleRef", "kind"))}/${str(get(obj, "roleRef", "name"))}`,
    age(get(obj, "metadata", "creationTimestamp"), now),
    ...subjects(obj),
  ],
};

export const RBAC_PRINTERS: Record<string, Printer> = {
  Role: ROLE,
  ClusterRole: ROLE,
  RoleBinding: BINDING,
  ClusterRoleBinding: BINDING,
};
