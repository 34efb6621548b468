// A container root seen from the host: paths inside it resolved as the container would resolve them
// (an absolute symlink in the image points into the image, never at the host; ".." stops at the
// root), as runc's securejoin and containerd's os.OpenRoot do. Used to read the image's /etc/passwd
// and /etc/group and to place mount points inside the image (sandbox.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import type { HostFs } from "./sandbox.ts";

const MAX_LINKS = 255;

/** The host path of `p` inside `root`, every symlink on the way resolved within the root. */
export function resolveInRoot(root: string, p: string): string {
  let links = 0;
  const parts = path.posix.resolve("/", p).split("/").filter(Boolean);
  const done: string[] = [];
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === "..") {
      done.pop();
      continue;
    }
    const host = path.join(root, ...done, part);
    let target: string | undefined;
    try {
      if (fs.lstatSync(host).isSymbolicLink()) target = fs.readlinkSync(host);
    } catch {
      // Missing: the rest is taken as it is.
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`too many levels of symbolic links: ${p}`);
    if (target.startsWith("/")) done.length = 0;
    parts.unshift(...target.split("/").filter(Boolean));
  }
  return path.join(root, ...done);
}

/** A file of the container root as text; undefined when it does not exist. */
export function readInRoot(root: string, p: string): string | undefined {
  try {
    return fs.readFileSync(resolveInRoot(root, p), "utf8");
  } catch {
    return undefined;
  }
}

/** The HostFs view sandbox.ts plans mounts against, for a container root other than the host's. */
export function rootView(root: string): HostFs {
  // The parent resolved inside the root, the last component itself (lstat: a symlink is reported as one).
  const at = (p: string) => {
    const normal = path.posix.resolve("/", p);
    return normal === "/"
      ? root
      : path.join(resolveInRoot(root, path.posix.dirname(normal)), path.posix.basename(normal));
  };
  return {
    exists: (p) => {
      try {
        fs.lstatSync(at(p));
        return true;
      } catch {
        return false;
      }
    },
    isDirectory: (p) => fs.lstatSync(at(p)).isDirectory(),
    readlink: (p) => (fs.lstatSync(at(p)).isSymbolicLink() ? fs.readlinkSync(at(p)) : undefined),
    readdir: (p) => fs.readdirSync(resolveInRoot(root, p)),
    realpath: (p) => `/${path.relative(root, resolveInRoot(root, p))}`,
  };
}
