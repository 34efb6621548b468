// The bubblewrap command line for one container. Each container gets its own mount, pid and uts
// namespace, /proc, /dev, and the pod's volumes at their mount paths, over one of two roots:
//
// Image mode (`root`): the container's own root filesystem — an overlay of its image with a writable
// layer, mounted by process.ts — bound as `/`; mount points missing in the image are created in it
// (runc creates them in the container's snapshot too), paths resolved through the image's symlinks,
// never the host's; with readOnlyRootFilesystem the root is remounted read-only last.
//
// Host-mirror mode: the host's filesystem read-only, a fresh /tmp and /root. Nothing else of the
// host's writable state is visible. bwrap 0.8 (Debian 12) has no overlay support, and a bind over a read-only host tree cannot create
// new mount points inside it. So the root is bwrap's empty tmpfs and the host is mirrored into it
// entry by entry: a host directory that contains a mount path is recreated as a directory and its
// children are bound one by one, everything else is bound read-only whole. Mount paths are resolved
// through host symlinks first (/var/run → /run) because bwrap would follow an absolute symlink on
// the host side. Mount points that exist on the host are just mounted over (no mirroring).
//
// Pid namespace with `--as-pid-1`: the command is pid 1, as in a container without an init, so an
// unhandled SIGTERM is ignored and when pid 1 exits the kernel kills every process left in the
// namespace — no background process survives its container. `--die-with-parent` ties the sandbox
// to the kubelet process.
import * as fs from "node:fs";
import * as path from "node:path";

export interface Mount {
  containerPath: string;
  hostPath: string;
  readOnly: boolean;
}

export interface SandboxSpec {
  command: string[];
  /**
   * Image mode: the container's root filesystem (`dir`, bound as /) and a view of its content to plan
   * mount points against (the image's root: the writable layer is still empty).
   */
  root?: { dir: string; view: HostFs };
  mounts: Mount[];
  workingDir: string;
  hostname: string;
  /** fd in the bwrap process where it writes {"child-pid": …} as JSON. */
  statusFd: number;
  /** readOnlyRootFilesystem: the fresh /tmp and home are read-only too, as in the image's root. */
  readOnlyRoot?: boolean;
  /**
   * Host directories no container may see (the kubelet's data dir: every pod's volumes, tokens and
   * logs, as /var/lib/kubelet on a node): an empty tmpfs covers them. Volumes bound from inside them
   * are unaffected (bwrap binds from the host's tree).
   */
  hidden?: string[];
}

export interface HostFs {
  exists(p: string): boolean;
  isDirectory(p: string): boolean; // without following symlinks
  readlink(p: string): string | undefined; // undefined when not a symlink
  readdir(p: string): string[];
  realpath(p: string): string;
}

export const hostFs: HostFs = {
  exists: (p) => {
    try {
      fs.lstatSync(p);
      return true;
    } catch {
      return false;
    }
  },
  isDirectory: (p) => fs.lstatSync(p).isDirectory(),
  readlink: (p) => (fs.lstatSync(p).isSymbolicLink() ? fs.readlinkSync(p) : undefined),
  readdir: (p) => fs.readdirSync(p),
  realpath: (p) => fs.realpathSync(p),
};

// Given fresh inside every sandbox, never mirrored from the host (/root: an image's empty home).
const SPECIAL = new Set(["/proc", "/dev", "/tmp", "/root"]);

/**
 * A container path with the symlinks in its existing prefix resolved (the host's, or the image's in
 * image mode); the fresh /tmp and /root of host-mirror mode have none.
 */
export function canonical(
  containerPath: string,
  host: HostFs,
  special: ReadonlySet<string> = SPECIAL,
): string {
  const normal = path.posix.resolve("/", containerPath);
  let existing = normal;
  const rest: string[] = [];
  while (existing !== "/" && !host.exists(existing)) {
    rest.unshift(path.posix.basename(existing));
    existing = path.posix.dirname(existing);
  }
  if (special.has(existing) || [...special].some((s) => existing.startsWith(`${s}/`))) return normal;
  return path.posix.join(host.realpath(existing), ...rest);
}

/** Under a directory every sandbox gets fresh (/tmp, /root), so what the host has there is not seen. */
function freshInside(p: string): boolean {
  return [...SPECIAL].some((s) => p.startsWith(`${s}/`));
}

function under(p: string, dir: string): boolean {
  return dir === "/" ? p !== "/" : p.startsWith(`${dir}/`);
}

/** Arguments that rebuild the host's tree read-only around the given mount points. */
export function mirrorArgs(mountPoints: string[], host: HostFs): string[] {
  const args: string[] = [];
  const visit = (dir: string) => {
    for (const name of host.readdir(dir).sort()) {
      const p = path.posix.join(dir, name);
      if (SPECIAL.has(p) || mountPoints.includes(p)) continue;
      const link = host.readlink(p);
      if (link !== undefined) {
        args.push("--symlink", link, p);
      } else if (mountPoints.some((m) => under(m, p)) && host.isDirectory(p)) {
        args.push("--dir", p);
        visit(p);
      } else {
        args.push("--ro-bind", p, p);
      }
    }
  };
  visit("/");
  return args;
}

export function bwrapArgs(spec: SandboxSpec, hostView: HostFs = hostFs): string[] {
  const image = spec.root !== undefined;
  const host = spec.root?.view ?? hostView;
  // What every sandbox gets fresh instead of the root's own: /proc and /dev, and in host-mirror mode /tmp and /root.
  const special: ReadonlySet<string> = image ? new Set(["/proc", "/dev"]) : SPECIAL;
  const fresh = (p: string) => [...special].some((s) => p.startsWith(`${s}/`));
  const mounts = spec.mounts
    .map((m) => ({ ...m, containerPath: canonical(m.containerPath, host, special) }))
    // Parents before children, as container runtimes order mounts.
    .sort((a, b) => a.containerPath.split("/").length - b.containerPath.split("/").length);
  const points = mounts.map((m) => m.containerPath);
  const workingDir = canonical(spec.workingDir || "/", host, special);
  const needsDir = !host.exists(workingDir) && !points.some((p) => p === workingDir || under(workingDir, p));
  if (needsDir) points.push(workingDir);
  const args = [
    "--die-with-parent",
    "--new-session",
    "--unshare-pid",
    "--as-pid-1",
    "--unshare-uts",
    "--hostname",
    spec.hostname,
    "--json-status-fd",
    String(spec.statusFd),
  ];
  if (spec.root) {
    // The container's root is writable here (mount points and the working directory go into its layer).
    args.push("--bind", spec.root.dir, "/", "--proc", "/proc", "--dev", "/dev", "--ro-bind", "/sys", "/sys");
  } else {
    args.push(
      // Only mount points missing on the host need their parents mirrored; an existing file or
      // directory (e.g. /etc/hosts) is simply mounted over.
      ...mirrorArgs(
        points.filter((p) => !host.exists(p)),
        host,
      ),
      "--proc",
      "/proc",
      "--dev",
      "/dev",
    );
    for (const dir of spec.hidden ?? []) {
      const p = canonical(dir, host);
      // Under the fresh /tmp or /root it is invisible already (and not mirrored).
      if (host.exists(p) && !freshInside(p) && !SPECIAL.has(p)) args.push("--tmpfs", p);
    }
  }
  // With a read-only root the fresh /tmp and /root (host-mirror) or the image's root are made
  // read-only last, once everything mounted inside them is in place.
  const remounts: string[] = [];
  if (!image) {
    for (const [dir, perms] of [
      ["/tmp", "1777"],
      ["/root", "0700"],
    ] as const) {
      if (points.includes(dir)) continue;
      args.push("--perms", perms, "--tmpfs", dir);
      if (spec.readOnlyRoot) remounts.push("--remount-ro", dir);
    }
  } else if (spec.readOnlyRoot) remounts.push("--remount-ro", "/");
  // bwrap creates a mount point's missing parents 0700, which a non-root container user cannot traverse
  // (e.g. /var/run/secrets/kubernetes.io above a projected token): create them 0755 first, as runc does.
  const parents = new Set<string>();
  for (const m of mounts) {
    const missing: string[] = [];
    for (
      let d = path.posix.dirname(m.containerPath);
      d !== "/" && !special.has(d) && (!host.exists(d) || fresh(d));
      d = path.posix.dirname(d)
    ) {
      missing.unshift(d);
    }
    for (const d of missing) {
      if (parents.has(d) || points.includes(d)) continue;
      parents.add(d);
      args.push("--perms", "0755", "--dir", d);
    }
  }
  if (needsDir) args.push("--dir", workingDir);
  for (const m of mounts) args.push(m.readOnly ? "--ro-bind" : "--bind", m.hostPath, m.containerPath);
  // A working directory inside a volume is created there, as runc does.
  const inVolume = hostPathOf(workingDir, mounts);
  if (!needsDir && inVolume !== undefined && !fs.existsSync(inVolume)) args.push("--dir", workingDir);
  args.push(...remounts, "--chdir", workingDir, "--", ...spec.command);
  return args;
}

/** Where a container path lives on the host when a volume holds it (undefined otherwise). */
export function hostPathOf(containerPath: string, mounts: Mount[]): string | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    if (containerPath === m.containerPath || under(containerPath, m.containerPath)) {
      if (!best || m.containerPath.length > best.containerPath.length) best = m;
    }
  }
  if (best) return path.posix.join(best.hostPath, path.posix.relative(best.containerPath, containerPath));
  return undefined;
}
