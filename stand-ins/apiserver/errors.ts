// Kubernetes `Status` error bodies, shaped exactly as kube-apiserver sends them, and the one error
// type every handler throws so the router can turn it into a response.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Status {
    const status: Status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }
}

/** What an error names: the resource (plural, as kube puts it in `details.kind`) and its group. */
export interface Target {
  group: string;
  resource: string;
  name?: string;
}

function qualified(t: Target): string {
  return t.group ? `${t.resource}.${t.group}` : t.resource;
}

// Status details as kube serializes them: empty fields (the core group's "") are omitted.
function details(t: Target, extra: Partial<StatusDetails> = {}): StatusDetails {
  const d: StatusDetails = {};
  if (t.name) d.name = t.name;
  if (t.group) d.group = t.group;
  d.kind = t.resource;
  return { ...d, ...extra };
}

export function notFound(t: Target): ApiError {
  return new ApiError(404, "NotFound", `${qualified(t)} "${t.name ?? ""}" not found`, details(t));
}

export function alreadyExists(t: Target): ApiError {
  return new ApiError(409, "AlreadyExists", `${qualified(t)} "${t.name ?? ""}" already exists`, details(t));
}

export function conflict(t: Target, why: string): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(t)} "${t.name ?? ""}": ${why}`,
    details(t),
  );
}

/** 422 Invalid; `kind` here is the object's Kind (kube uses the kind for validation errors). */
export function invalid(group: string, kind: string, name: string, causes: StatusCause[]): ApiError {
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : (c.message ?? ""))).join(", ");
  const summary = causes.length > 1 ? `[${list}]` : list;
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  return new ApiError(422, "Invalid", `${qualifiedKind} "${name}" is invalid: ${summary}`, {
    ...(name ? { name } : {}),
    ...(group ? { group } : {}),
    kind,
    causes,
  });
}

export function badRequest(message: string, causes?: StatusCause[]): ApiError {
  return new ApiError(400, "BadRequest", message, causes ? { causes } : undefined);
}

/** A resourceVersion the server has not reached: kube's watch cache gives up after waiting for it. */
export function tooLargeResourceVersion(rv: number, current: number): ApiError {
  return new ApiError(504, "Timeout", "Too large resource version", {
    causes: [
      {
        reason: "ResourceVersionTooLarge",
        message: `Too large resource version: ${rv}, current: ${current}`,
      },
    ],
    retryAfterSeconds: 1,
  });
}

export function gone(message: string): ApiError {
  return new ApiError(410, "Expired", message);
}

export function unauthorized(): ApiError {
  return new ApiError(401, "Unauthorized", "Unauthorized");
}

export function methodNotAllowed(verb: string, t: Target): ApiError {
  return new ApiError(
    405,
    "MethodNotAllowed",
    `${verb} is not supported on resources of kind "${qualified(t)}"`,
    details(t),
  );
}

export function unsupportedMediaType(type: string): ApiError {
  return new ApiError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json; got ${type}`,
  );
}

export function notAcceptable(type: string): ApiError {
  return new ApiError(
    406,
    "NotAcceptable",
    `only the following media types are accepted: application/json, application/yaml; got ${type}`,
  );
}

export function forbidden(t: Target, why: string): ApiError {
  return new ApiError(403, "Forbidden", `${qualified(t)} "${t.name ?? ""}" is forbidden: ${why}`, details(t));
}

export function pathNotFound(): ApiError {
  return new ApiError(404, "NotFound", "the server could not find the requested resource");
}

export function internal(message: string): ApiError {
  return new ApiError(500, "InternalError", `Internal error occurred: ${message}`);
}
