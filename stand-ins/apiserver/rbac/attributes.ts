// What an authorizer decides on (kube's authorizer.Attributes), and how a request becomes one: the
// RequestInfoFactory's resource attributes, or the path and lower-cased method of a non-resource request.
import { parseRequestInfo } from "../request-info.ts";
import { parseFieldSelector } from "../selectors.ts";
import type { UserInfo } from "./user.ts";

export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  /** Non-resource requests: the URL path. */
  path: string;
  namespace?: string;
  apiGroup: string;
  apiVersion?: string;
  resource: string;
  subresource?: string;
  name?: string;
}

export function resourceAttributes(
  user: UserInfo,
  a: Omit<Attributes, "user" | "resourceRequest" | "path"> & { path?: string },
): Attributes {
  return { user, resourceRequest: true, path: a.path ?? "", ...a };
}

export function nonResourceAttributes(user: UserInfo, verb: string, path: string): Attributes {
  return { user, verb, resourceRequest: false, path, apiGroup: "", resource: "" };
}

const validPathSegment = (s: string) =>
  s !== "" && s !== "." && s !== ".." && !s.includes("/") && !s.includes("%");

/** The attributes kube-apiserver authorizes an HTTP request with. */
export function requestAttributes(user: UserInfo, method: string, url: URL): Attributes {
  const info = parseRequestInfo(method, url);
  if (!info) return nonResourceAttributes(user, method.toLowerCase(), url.pathname);
  let name = info.name;
  // A list or watch of one object by field selector may be authorized by its name (resourceNames rules).
  if (name === undefined && (info.verb === "list" || info.verb === "watch")) {
    try {
      const exact = parseFieldSelector(url.searchParams.get("fieldSelector")).filter(
        (r) => r.field === "metadata.name" && !r.negate,
      );
      if (exact.length === 1 && validPathSegment(exact[0]!.value)) name = exact[0]!.value;
    } catch {
      // An unparseable selector is the list handler's 400 to give.
    }
  }
  // RequestInfo keeps the namespace of /namespaces/<name>: reading a namespace is authorized inside it.
  const namespace = info.resource === "namespaces" ? info.name : info.namespace;
  return resourceAttributes(user, {
    verb: info.verb,
    namespace,
    apiGroup: info.group,
    apiVersion: info.version,
    resource: info.resource,
    subresource: info.subresource,
    name,
    path: url.pathname,
  });
}
