// An image's config applied to a container as the kubelet, containerd's CRI plugin and runc apply
// it, as pure functions: the process's argv (command/args over Entrypoint/Cmd), its environment
// (runtime PATH, HOSTNAME, image Env, container env, then HOME from the image's /etc/passwd), its
// working directory, and its user and groups (securityContext over the image's User, resolved
// through the image's /etc/passwd and /etc/group), plus the kubelet's runAsNonRoot check against
// that user. References: kubelet kuberuntime (getImageUser, verifyRunAsNonRoot,
// determineEffectiveSecurityContext), containerd internal/cri/opts WithProcessArgs and
// WithAdditionalGIDs, pkg/oci WithUser/WithUserID/WithUsername, runc prepareEnv.

/** The parts of an OCI image config a container runtime uses (as `podman image inspect` names them). */
export interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
}

/** The image's /etc/passwd and /etc/group as text; undefined when the file does not exist. */
export interface ImageFiles {
  passwd?: string | undefined;
  group?: string | undefined;
}

/** containerd's WithDefaultPathEnv. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const MAX_ID = 2 ** 31 - 1; // runc's limit on uids and gids (math.MaxInt32)

export type Result<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * command replaces Entrypoint; args replace Cmd; command without args ignores Cmd. Both arrays are the
 * container's, already $(VAR)-expanded by the kubelet (the image's are never expanded).
 */
export function processArgs(command: string[], args: string[], image: ImageConfig): Result<string[]> {
  let cmd = command;
  let rest = args;
  if (cmd.length === 0) {
    if (rest.length === 0) rest = [...(image.Cmd ?? [])];
    const entrypoint = image.Entrypoint ?? [];
    // An Entrypoint of [""] is how an image says "none".
    if (!(entrypoint.length === 1 && entrypoint[0] === "")) cmd = [...entrypoint];
  }
  if (cmd.length === 0 && rest.length === 0) return { ok: false, message: "no command specified" };
  return { ok: true, value: [...cmd, ...rest] };
}

/** The process environment before HOME: PATH default, HOSTNAME, the image's Env, the container's env. */
export function processEnv(
  image: ImageConfig,
  containerEnv: [string, string][],
  hostname: string,
): Map<string, string> {
  const env = new Map<string, string>([
    ["PATH", DEFAULT_PATH],
    ["HOSTNAME", hostname],
  ]);
  for (const entry of image.Env ?? []) {
    const eq = entry.indexOf("=");
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  for (const [k, v] of containerEnv) env.set(k, v);
  return env;
}

/** The container's workingDir, else the image's, else the runtime's default "/". */
export function workingDir(containerDir: string | undefined, image: ImageConfig): string {
  return containerDir || image.WorkingDir || "/";
}

/** The image user as the kubelet sees it (CRI ImageStatus): a uid, a user name, or root when unset. */
export function imageUser(user: string | undefined): { uid: number } | { username: string } {
  const first = (user ?? "").split(":")[0] ?? "";
  if (first === "") return { uid: 0 };
  return /^-?\d+$/.test(first) ? { uid: Number(first) } : { username: first };
}

export interface UserSecurity {
  runAsUser?: number | undefined;
  runAsGroup?: number | undefined;
  runAsNonRoot: boolean;
  /** fsGroup, then supplementalGroups (the kubelet's order). */
  supplementalGroups: number[];
  groupsPolicy: "Merge" | "Strict";
}

/** The kubelet's verifyRunAsNonRoot, with the image's user; the message when the container may not run. */
export function verifyRunAsNonRoot(sec: UserSecurity, image: ImageConfig, who: string): string | undefined {
  if (!sec.runAsNonRoot) return undefined;
  if (sec.runAsUser !== undefined) {
    return sec.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${who}` : undefined;
  }
  const user = imageUser(image.User);
  if ("username" in user) {
    return `container has runAsNonRoot and image has non-numeric user (${user.username}), cannot verify user is non-root ${who}`;
  }
  if (user.uid === 0) return `container has runAsNonRoot and image will run as root ${who}`;
  if (user.uid < 0 || user.uid > MAX_ID) {
    return (
      `container has runAsNonRoot and image has an invalid user id (${user.uid}). (Must be 1-(${MAX_ID})): ` +
      `must be between 0 and ${MAX_ID}, inclusive ${who}`
    );
  }
  return undefined;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

// moby/sys/user's parsers: blank lines skipped, numbers that do not parse count as 0.
const fields = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .map((l) => l.split(":"));
const int = (s: string | undefined) => (/^-?\d+$/.test(s ?? "") ? Number(s) : 0);

function passwd(text: string): PasswdEntry[] {
  return fields(text).map((f) => ({ name: f[0] ?? "", uid: int(f[2]), gid: int(f[3]), home: f[5] ?? "" }));
}

function groups(text: string): GroupEntry[] {
  return fields(text).map((f) => ({
    name: f[0] ?? "",
    gid: int(f[2]),
    members: f[3] ? f[3].split(",") : [],
  }));
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** All groups, the primary one included, sorted (containerd's additionalGids). */
  groups: number[];
}

const NO_PASSWD = "open etc/passwd: no such file or directory";

/**
 * The user a container runs as. The kubelet sends runAsUser, or else the image user's uid or name
 * (the group part of the image's User is dropped on that way), plus runAsGroup; containerd resolves
 * that through the image's files: a uid without a group gets its passwd entry's gid (0 without one),
 * a name must be in /etc/passwd. Supplementary groups: the user's memberships in /etc/group (policy
 * Merge) and the pod's fsGroup and supplementalGroups.
 */
export function resolveUser(sec: UserSecurity, image: ImageConfig, files: ImageFiles): Result<ResolvedUser> {
  const fromImage = imageUser(image.User);
  const user: { uid: number } | { username: string } =
    sec.runAsUser !== undefined ? { uid: sec.runAsUser } : fromImage;
  const userstr =
    ("uid" in user ? String(user.uid) : user.username) +
    (sec.runAsGroup !== undefined ? `:${sec.runAsGroup}` : "");
  const outOfRange = (what: "uid" | "gid") => ({
    ok: false as const,
    message: `invalid USER value ${JSON.stringify(userstr)}: ${what} out of range`,
  });
  const entries = files.passwd === undefined ? undefined : passwd(files.passwd);
  let uid: number;
  let gid: number;
  if ("uid" in user) {
    if (user.uid < 0 || user.uid > MAX_ID) return outOfRange("uid");
    uid = user.uid;
    gid = entries?.find((e) => e.uid === uid)?.gid ?? 0;
  } else {
    if (entries === undefined) return { ok: false, message: NO_PASSWD };
    const entry = entries.find((e) => e.name === user.username);
    if (!entry) return { ok: false, message: "no users found" };
    uid = entry.uid;
    gid = entry.gid;
  }
  if (sec.runAsGroup !== undefined) {
    if (sec.runAsGroup < 0 || sec.runAsGroup > MAX_ID) return outOfRange("gid");
    gid = sec.runAsGroup;
  }
  const all = new Set([gid, ...sec.supplementalGroups]);
  if (sec.groupsPolicy === "Merge") {
    // Memberships are looked up by name: a uid's name comes from /etc/passwd (none without an entry).
    const name = "uid" in user ? entries?.find((e) => e.uid === user.uid)?.name : user.username;
    if (name !== undefined && files.group !== undefined) {
      for (const g of groups(files.group)) if (g.name !== name && g.members.includes(name)) all.add(g.gid);
    }
  }
  return { ok: true, value: { uid, gid, groups: [...all].sort((a, b) => a - b) } };
}

/** runc's prepareEnv: HOME from the user's /etc/passwd entry when the env has none, else "/". */
export function withHome(env: Map<string, string>, uid: number, files: ImageFiles): Map<string, string> {
  if (env.get("HOME")) return env;
  const out = new Map(env);
  out.delete("HOME");
  const entry = files.passwd === undefined ? undefined : passwd(files.passwd).find((e) => e.uid === uid);
  out.set("HOME", entry ? entry.home : "/");
  return out;
}
