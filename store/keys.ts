// Where each thing lives in a backend: "/"-separated keys whose segments are validated names, encoded so
// that no segment is empty, "." or "..", or holds a "/" (safe as file names and as S3 keys). The encoding
// works character by character, so the encoding of a prefix is a prefix of the encoding (prefix listing).
//
//   logs/<namespace>/<build>/<step>/chunk-<start>-<end>    bytes [start, end) of a step's log, as appended
//   logs/<namespace>/<build>/<step>/data                   the whole log, once complete (the chunks go)
//   logs/<namespace>/<build>/<step>/index-<n>              the step's place in the pipeline (empty)
//   logs/<namespace>/<build>/.kiln/build                    whose Build it was (its repository), at its first append
//   caches/<namespace>/<repository>/<branch>/<key>/archive a saved cache (size and time from the blob)
//   caches/<namespace>/<repository>/<branch>/<key>/used    written on each restore: when it was last used
import {
  type BuildRef,
  type RepositoryRef,
  type StepRef,
  segment,
  unsegment,
} from "../api/store-protocol.ts";

export const LOGS = "logs/";
export const CACHES = "caches/";
export const DATA = "data";
export const ARCHIVE = "archive";
export const USED = "used";
/**
 * The Build's own record sits where a step would, under a name no step can have (a step's segment has its
 * "." encoded), so listing, retention and deletion treat it as one more file of the Build's logs.
 */
export const RECORD_STEP = ".kiln";
/** The file whose name holds a step's place in the pipeline. */
export const indexFile = (index: number) => `index-${index}`;
export function parseIndexFile(name: string): number | undefined {
  const m = /^index-(\d{1,4})$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
export const RECORD_FILE = "build";

// segment/unsegment live in api/store-protocol.ts: the agent's local cache (kiln run) lays out its folders the same way.
export { segment, unsegment };

export const buildLogPrefix = (r: BuildRef) => `${LOGS}${segment(r.namespace)}/${segment(r.build)}/`;
export const stepLogPrefix = (r: StepRef) => `${buildLogPrefix(r)}${segment(r.step)}/`;
export const buildRecordKey = (r: BuildRef) => `${buildLogPrefix(r)}${RECORD_STEP}/${RECORD_FILE}`;
export const repositoryCachePrefix = (r: RepositoryRef) =>
  `${CACHES}${segment(r.namespace)}/${segment(r.repository)}/`;
export const branchCachePrefix = (r: RepositoryRef, branch: string) =>
  `${repositoryCachePrefix(r)}${segment(branch)}/`;
export const cacheEntryPrefix = (r: RepositoryRef, branch: string, key: string) =>
  `${branchCachePrefix(r, branch)}${segment(key)}/`;

/** What a key under logs/ names, or undefined for a key of another shape. */
export function parseLogKey(key: string): (StepRef & { file: string }) | undefined {
  const parts = key.split("/");
  if (parts.length !== 5 || `${parts[0]}/` !== LOGS) return undefined;
  const [, namespace, build, step, file] = parts.map(safeDecode);
  if (!namespace || !build || !step || !file) return undefined;
  return { namespace, build, step, file };
}

/** What a key under caches/ names, or undefined for a key of another shape. */
export function parseCacheKey(
  key: string,
): (RepositoryRef & { branch: string; key: string; file: string }) | undefined {
  const parts = key.split("/");
  if (parts.length !== 6 || `${parts[0]}/` !== CACHES) return undefined;
  const [, namespace, repository, branch, name, file] = parts.map(safeDecode);
  if (!namespace || !repository || !branch || !name || !file) return undefined;
  return { namespace, repository, branch, key: name, file };
}

function safeDecode(text: string): string | undefined {
  try {
    return unsegment(text);
  } catch {
    return undefined;
  }
}
