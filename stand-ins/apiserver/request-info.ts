// Parses a request path the way kube-apiserver's RequestInfoFactory does: API prefix, group, version,
// namespace, resource, name, subresource, and the verb implied by method + path + query.
export interface RequestInfo {
  /** false for /version, /healthz, discovery and OpenAPI paths. */
  isResourceRequest: boolean;
  path: string;
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
  verb: "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";
}

const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

export function parseRequestInfo(method: string, url: URL): RequestInfo | undefined {
  const parts = url.pathname
    .split("/")
    .filter((p) => p !== "")
    .map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 2) {
    group = "";
    rest = parts.slice(1);
  } else if (parts[0] === "apis" && parts.length >= 3) {
    group = parts[1]!;
    rest = parts.slice(2);
  } else {
    return undefined;
  }
  const version = rest[0]!;
  rest = rest.slice(1);
  let watchPrefix = false;
  if (rest[0] === "watch") {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  if (rest.length === 0) return undefined;
  let namespace: string | undefined;
  if (rest[0] === "namespaces") {
    if (rest.length > 1) {
      namespace = rest[1];
      if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
    }
  }
  const resource = rest[0]!;
  const name = rest[1];
  const subresource = rest[2];
  if (resource === "namespaces") namespace = undefined;
  const watch = watchPrefix || ["1", "true"].includes(url.searchParams.get("watch") ?? "");
  let verb: RequestInfo["verb"];
  switch (method) {
    case "GET":
    case "HEAD":
      verb = name === undefined ? (watch ? "watch" : "list") : watch ? "watch" : "get";
      break;
    case "POST":
      verb = "create";
      break;
    case "PUT":
      verb = "update";
      break;
    case "PATCH":
      verb = "patch";
      break;
    case "DELETE":
      verb = name === undefined ? "deletecollection" : "delete";
      break;
    default:
      return undefined;
  }
  return {
    isResourceRequest: true,
    path: url.pathname,
    group,
    version,
    namespace,
    resource,
    name,
    subresource,
    verb,
  };
}
