// `.kiln.yaml`'s `cache: {key, paths, files}` as the build pod, the agent and `kiln run` share it. Pure.
//
// A cache path is seen by the build container either inside the workspace (`node_modules`, or
// `/workspace/node_modules`) or outside it (`/root/.npm`). Paths outside the workspace are kept on one
// emptyDir, the "cache" volume: the build container mounts `subPath: root/.npm` at `/root/.npm`, the agent
// mounts the whole volume at CACHE_MOUNT_DIR and so finds that path at `/kiln-cache/root/.npm`. Both sides
// derive this from the path alone (cacheMounts), so no table is handed from one to the other.
//
// An archive names each entry by where the build container sees it, without the leading slash
// (`workspace/node_modules/x`, `root/.npm/_cacache/…`): the format does not depend on where the agent or
// `kiln run` keeps the files.
import { posix } from "node:path";
import { WORKSPACE_DIR } from "./pod-protocol.ts";

/** Where the agent container mounts the "cache" volume (the paths outside the workspace). */
export const CACHE_MOUNT_DIR = "/kiln-cache";
/** The emptyDir that holds the cache paths outside the workspace. */
export const CACHE_VOLUME = "cache";

export const MAX_CACHE_PATHS = 10;
export const MAX_CACHE_FILES = 20;
/** A cache key as written: the store's key is `<key>-<32 hex digits>`, well within its 200 characters. */
const KEY = /^[A-Za-z0-9._-]{1,100}$/;
export const CACHE_KEY_RULE = "a cache key has letters, digits, '.', '_' or '-', at most 100";

/** Outside the workspace, nothing under these: the kernel's, the runtime's, Kiln's own. */
const FORBIDDEN = ["/proc", "/sys", "/dev", "/run", "/var/run", "/kiln", CACHE_MOUNT_DIR];

export interface CachePath {
  /** Where the build container sees it: absolute and normalized (`/workspace/node_modules`, `/root/.npm`). */
  path: string;
  /** Inside the workspace: the path relative to it (`node_modules`). */
  workspace?: string;
}

/** Why a cache path cannot be one, or undefined. */
export function cachePathProblem(written: string): string | undefined {
  const problem = pathSyntax(written);
  if (problem) return problem;
  const path = resolveCachePath(written);
  if (path.workspace !== undefined) {
    if (path.workspace === "")
      return "the workspace itself cannot be cached: name what to keep in it, such as node_modules";
    if (path.workspace === ".git" || path.workspace.startsWith(".git/"))
      return "the checkout's .git cannot be cached";
    return undefined;
  }
  const forbidden = FORBIDDEN.find((f) => path.path === f || path.path.startsWith(`${f}/`));
  if (forbidden) return `${forbidden} cannot hold a cache path`;
  if (path.path.split("/").length < 3)
    return `${path.path} is a directory of the image's system: cache something inside it, such as /root/.npm`;
  return undefined;
}

/** Why a `files` entry (hashed into the key) cannot be one, or undefined. */
export function cacheFileProblem(written: string): string | undefined {
  const problem = pathSyntax(written);
  if (problem) return problem;
  const path = resolveCachePath(written);
  if (path.workspace === undefined)
    return "a file hashed into the key must be in the workspace (write it relative to it)";
  if (path.workspace === "") return "name a file in the workspace, such as package-lock.json";
  return undefined;
}

export function cacheKeyProblem(key: string): string | undefined {
  return KEY.test(key) ? undefined : CACHE_KEY_RULE;
}

/** Why a list of cache paths cannot be together: the same path twice, or one inside another. */
export function cachePathsProblem(
  written: readonly string[],
): { index: number; message: string } | undefined {
  const paths = written.map(resolveCachePath);
  for (let i = 0; i < paths.length; i++) {
    for (let j = 0; j < i; j++) {
      const [a, b] = [paths[j]!.path, paths[i]!.path];
      if (a === b) return { index: i, message: `${written[i]} is the same path as paths[${j}]` };
      if (b.startsWith(`${a}/`) || a.startsWith(`${b}/`))
        return {
          index: i,
          message: `${written[i]} and paths[${j}] (${written[j]}) overlap: list one of them`,
        };
    }
  }
  return undefined;
}

function pathSyntax(written: string): string | undefined {
  if (/[\0\n\r]/.test(written)) return "a path cannot hold control characters";
  if (written.startsWith("~"))
    return "~ is not expanded: write the absolute path (the build container's home is its image's, often /root)";
  if (written.includes("*")) return "globs are not supported: name a directory or a file";
  if (written.split("/").includes("..")) return "a path cannot go up with ..";
  return undefined;
}

/** A (valid) path as written, as the build container sees it. */
export function resolveCachePath(written: string): CachePath {
  const absolute = posix.normalize(posix.isAbsolute(written) ? written : posix.join(WORKSPACE_DIR, written));
  const path = absolute.length > 1 ? absolute.replace(/\/+$/, "") : absolute;
  if (path === WORKSPACE_DIR) return { path, workspace: "" };
  if (path.startsWith(`${WORKSPACE_DIR}/`)) return { path, workspace: path.slice(WORKSPACE_DIR.length + 1) };
  return { path };
}

/** The name of a path's entries in an archive: where the build container sees it, without the slash. */
export function archiveName(path: CachePath): string {
  return path.path.slice(1);
}

/** The build container's mounts of the "cache" volume: one subPath per path outside the workspace. */
export function cacheMounts(written: readonly string[]): { mountPath: string; subPath: string }[] {
  return written
    .map(resolveCachePath)
    .filter((p) => p.workspace === undefined)
    .map((p) => ({ mountPath: p.path, subPath: p.path.slice(1) }));
}

/** Where the agent (or `kiln run`) finds a path: in its own workspace, or under its cache mount. */
export function localCacheDir(path: CachePath, dirs: { workspace: string; outside: string }): string {
  return path.workspace !== undefined
    ? posix.join(dirs.workspace, path.workspace)
    : posix.join(dirs.outside, path.path);
}

/** The store's key of a cache: the manifest's key and the hash of its files. */
export function fullCacheKey(key: string, filesHash: string): string {
  return `${key}-${filesHash}`;
}

/** Where a restore looks, in order: the build's branch, then the default branch (once each). */
export function cacheBranches(branch: string | undefined, defaultBranch: string): string[] {
  return [...new Set([...(branch ? [branch] : []), defaultBranch])];
}

/** A repository's default branch when its Repository names none (Repository.spec.defaultBranch). */
export const DEFAULT_BRANCH = "main";
