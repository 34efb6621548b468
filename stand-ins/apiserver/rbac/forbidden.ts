// The 403 kube-apiserver answers a denied request with: apierrors.NewForbidden around
// responsewriters' forbiddenMessage, with the authorizer's reason appended when it gave one.
import { ApiError } from "../errors.ts";
import type { Attributes } from "./attributes.ts";

export function forbiddenMessage(a: Attributes): string {
  const user = JSON.stringify(a.user.username);
  if (!a.resourceRequest) return `User ${user} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : "at the cluster scope";
  return `User ${user} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
}

/** apierrors.NewForbidden(groupResource, name, err). */
export function forbiddenError(
  target: { group: string; resource: string; name?: string },
  why: string,
): ApiError {
  let message: string;
  if (!target.group && !target.resource) message = `forbidden: ${why}`;
  else {
    const qualified = target.group ? `${target.resource}.${target.group}` : target.resource;
    message = target.name
      ? `${qualified} ${JSON.stringify(target.name)} is forbidden: ${why}`
      : `${qualified} is forbidden: ${why}`;
  }
  return new ApiError(403, "Forbidden", message, {
    ...(target.name ? { name: target.name } : {}),
    ...(target.group ? { group: target.group } : {}),
    ...(target.resource ? { kind: target.resource } : {}),
  });
}

/** responsewriters.Forbidden: the denial of `a`, with the authorizer's reason when there is one. */
export function denied(a: Attributes, reason: string): ApiError {
  // kube escapes what could be read as HTML in the part that echoes the request.
  const message = forbiddenMessage(a).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const why = reason ? `${message}: ${reason}` : message;
  return forbiddenError({ group: a.apiGroup, resource: a.resource, name: a.name }, why);
}
