// The store's HTTP protocol (`kiln store`, store/README.md): the paths, headers, names and answers the
// store and its clients (lib/store-client.ts: the agent, the CLI, the chat, the build page) share.

/** The audience of the tokens build pods present to the store (a projected ServiceAccount token's `aud`). */
export const STORE_AUDIENCE = "kiln-store";

export const STORE_HEADERS = {
  /** On a log read: the log's length when the answer started (bytes). */
  logLength: "x-kiln-log-length",
  /** On a log read: "true" when the step's log is complete (nothing more will be appended). */
  logComplete: "x-kiln-log-complete",
  /** On a cache restore: the key of the cache found (the exact key, or a newer one of a fallback prefix). */
  cacheKey: "x-kiln-cache-key",
  /** On a cache restore: the branch the cache found was saved from. */
  cacheBranch: "x-kiln-cache-branch",
  /** On a cache restore: "true" when the cache found has exactly the requested key. */
  cacheExact: "x-kiln-cache-exact",
} as const;

/** Kubernetes names: a namespace is a DNS label, a Build or Repository a DNS subdomain. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A step's name as .kiln.yaml allows it (agent/manifest-schema.ts): letters, digits, spaces, - _ . */
const STEP_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_. ]{0,61}[A-Za-z0-9_.])?$/;
/** A cache key: printable ASCII without "/" (the agent makes it from .kiln.yaml's key and a hash of files). */
const CACHE_KEY = /^[\x21-\x2e\x30-\x7e]{1,200}$/;
/** A branch as git allows it, within what one stored name can hold. */
const BRANCH = /^[^\p{Cc} ~^:?*[\\]{1,200}$/u;

export const STORE_NAMES = {
  namespace: { pattern: DNS_LABEL, rule: "a namespace is a DNS label" },
  build: { pattern: DNS_SUBDOMAIN, rule: "a Build's name is a DNS subdomain" },
  repository: { pattern: DNS_SUBDOMAIN, rule: "a Repository's name is a DNS subdomain" },
  step: { pattern: STEP_NAME, rule: "a step name has letters, digits, spaces, '-', '_' or '.', at most 63" },
  key: { pattern: CACHE_KEY, rule: "a cache key is 1–200 printable ASCII characters without '/'" },
  branch: { pattern: BRANCH, rule: "a branch is 1–200 characters git allows in a ref" },
} as const;
export type StoreName = keyof typeof STORE_NAMES;

/** Why a name is not valid for the store, or undefined when it is. */
export function invalidName(kind: StoreName, value: string): string | undefined {
  const { pattern, rule } = STORE_NAMES[kind];
  return pattern.test(value) ? undefined : `${JSON.stringify(value)} is not a valid ${kind}: ${rule}`;
}

export interface BuildRef {
  namespace: string;
  build: string;
}
export interface StepRef extends BuildRef {
  step: string;
}
export interface RepositoryRef {
  namespace: string;
  repository: string;
}

const seg = encodeURIComponent;

/** PUT (append, `?offset=N[&complete=true][&index=I]`: I the step's place in the pipeline) and GET (read, `?offset=N[&follow=true]`) of one step's log. */
export const logPath = (r: StepRef) => `/v1/logs/${seg(r.namespace)}/${seg(r.build)}/${seg(r.step)}`;
/** GET: the steps of a Build that have a log. */
export const stepsPath = (r: BuildRef) => `/v1/logs/${seg(r.namespace)}/${seg(r.build)}`;
/** GET/HEAD `?key=K[&prefix=P…]&branch=B[&branch=B2…]`: restore (or look up) a cache of a repository. */
export const cachesPath = (r: RepositoryRef) => `/v1/caches/${seg(r.namespace)}/${seg(r.repository)}`;
/** PUT: save a cache under a key (the branch is the Build's own). */
export const cachePath = (r: RepositoryRef & { key: string }) => `${cachesPath(r)}/${seg(r.key)}`;

/** The answer to an append, and the body of its 409 (a gap, or bytes past a completed log). */
export interface LogAppendAnswer {
  /** The log's length now (bytes stored without a gap). */
  length: number;
  complete: boolean;
}

export interface StepLogInfo {
  step: string;
  /** The step's place in the pipeline (from 0), as the agent said with its first append (`index=N`). */
  index?: number;
  length: number;
  complete: boolean;
  /** When the first and the latest bytes were stored (RFC 3339). */
  created: string;
  updated: string;
}

export interface StepsAnswer {
  namespace: string;
  build: string;
  /** The Build's Repository, as the store recorded it at the first append (logs from before: none). */
  repository?: string;
  steps: StepLogInfo[];
}

/** What the store records of a Build with its logs, so they stay attributable once the Build is gone. */
export interface BuildLogRecord {
  repository: string;
}

export interface CacheSaveAnswer {
  key: string;
  branch: string;
  size: number;
}

/** One key segment: URI-encoded, and "." too, so "." and ".." cannot appear. */
export function segment(name: string): string {
  return encodeURIComponent(name).replace(/\./g, "%2E");
}

export function unsegment(text: string): string {
  return decodeURIComponent(text);
}
