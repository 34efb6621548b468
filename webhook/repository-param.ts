// The hook URL's `repository=<namespace>/<name>` parameter, set by the repository controller when it
// registers a hook, read by the webhook server to pick the one Repository a delivery is for.
export const REPOSITORY_PARAM = "repository";

export function repositoryParam(
  requestURL: string | undefined,
): { namespace: string; name: string } | undefined {
  if (!requestURL?.includes("?")) return undefined;
  const value = new URL(requestURL, "http://localhost").searchParams.get(REPOSITORY_PARAM);
  const match = value ? /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(value) : null;
  return match ? { namespace: match[1]!, name: match[2]! } : undefined;
}
