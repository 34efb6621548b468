// Which route a request is, with its names decoded and validated (api/store-protocol.ts), or why it is
// none. Pure.
import {
  type BuildRef,
  invalidName,
  type RepositoryRef,
  type StepRef,
  type StoreName,
} from "../api/store-protocol.ts";

export type Route =
  | { kind: "append-log"; ref: StepRef }
  | { kind: "read-log"; ref: StepRef }
  | { kind: "list-steps"; ref: BuildRef }
  | { kind: "restore-cache"; ref: RepositoryRef; head: boolean }
  | { kind: "save-cache"; ref: RepositoryRef; key: string };

export interface NoRoute {
  status: 400 | 404 | 405;
  message: string;
  allow?: string;
}

export function route(method: string, pathname: string): Route | NoRoute {
  const parts = pathname.split("/").slice(1);
  if (parts[0] !== "v1" || (parts[1] !== "logs" && parts[1] !== "caches")) {
    return { status: 404, message: `no such path: ${pathname}` };
  }
  const names: string[] = [];
  for (const part of parts.slice(2)) {
    try {
      names.push(decodeURIComponent(part));
    } catch {
      return { status: 400, message: `a path segment is not valid percent-encoding: ${part}` };
    }
  }
  const check = (pairs: Array<[StoreName, string]>): string | undefined => {
    for (const [kind, value] of pairs) {
      const problem = invalidName(kind, value);
      if (problem) return problem;
    }
    return undefined;
  };
  const allowOnly = (allow: string): NoRoute => ({
    status: 405,
    message: `${pathname} accepts ${allow.split(", ").join(" or ")}`,
    allow,
  });

  if (parts[1] === "logs") {
    const [namespace, build, step] = names;
    if (names.length === 2) {
      const problem = check([
        ["namespace", namespace!],
        ["build", build!],
      ]);
      if (problem) return { status: 400, message: problem };
      if (method !== "GET") return allowOnly("GET");
      return { kind: "list-steps", ref: { namespace: namespace!, build: build! } };
    }
    if (names.length === 3) {
      const problem = check([
        ["namespace", namespace!],
        ["build", build!],
        ["step", step!],
      ]);
      if (problem) return { status: 400, message: problem };
      const ref = { namespace: namespace!, build: build!, step: step! };
      if (method === "GET") return { kind: "read-log", ref };
      if (method === "PUT" || method === "POST") return { kind: "append-log", ref };
      return allowOnly("GET, PUT, POST");
    }
    return { status: 404, message: "a log is /v1/logs/<namespace>/<build>[/<step>]" };
  }

  const [namespace, repository, key] = names;
  if (names.length === 2) {
    const problem = check([
      ["namespace", namespace!],
      ["repository", repository!],
    ]);
    if (problem) return { status: 400, message: problem };
    if (method !== "GET" && method !== "HEAD") return allowOnly("GET, HEAD");
    return {
      kind: "restore-cache",
      ref: { namespace: namespace!, repository: repository! },
      head: method === "HEAD",
    };
  }
  if (names.length === 3) {
    const problem = check([
      ["namespace", namespace!],
      ["repository", repository!],
      ["key", key!],
    ]);
    if (problem) return { status: 400, message: problem };
    if (method !== "PUT") return allowOnly("PUT");
    return { kind: "save-cache", ref: { namespace: namespace!, repository: repository! }, key: key! };
  }
  return { status: 404, message: "a cache is /v1/caches/<namespace>/<repository>[/<key>]" };
}

/** A byte offset from a query parameter: a non-negative integer. */
export function parseOffset(text: string | undefined, name: string, required: boolean): number | string {
  if (text === undefined) return required ? `${name} is required (a byte offset)` : 0;
  if (!/^\d{1,15}$/.test(text)) return `${name} must be a non-negative integer, not ${JSON.stringify(text)}`;
  return Number(text);
}

/** A step's place in the pipeline: 0 to 9999 (a pipeline has far fewer steps). */
export function parseStepIndex(text: string): number | string {
  if (!/^\d{1,4}$/.test(text)) return `index must be an integer from 0 to 9999, not ${JSON.stringify(text)}`;
  return Number(text);
}

/** A boolean query parameter: absent, "false" or "0" is false; "true" or "1" is true. */
export function parseFlag(text: string | undefined, name: string): boolean | string {
  if (text === undefined || text === "false" || text === "0") return false;
  if (text === "true" || text === "1") return true;
  return `${name} must be true or false, not ${JSON.stringify(text)}`;
}
