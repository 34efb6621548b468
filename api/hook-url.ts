// The hook URL Kiln registers carries `repository=<namespace>/<name>`: the contract between the repository
// controller (which registers the hook) and the webhook server (which picks the one Repository a delivery is for).
export const REPOSITORY_PARAM = "repository";

export function repositoryParam(
  requestURL: string | undefined,
): { namespace: string; name: string } | undefined {
  if (!requestURL?.includes("?")) return undefined;
  const value = new URL(requestURL, "http://localhost").searchParams.get(REPOSITORY_PARAM);
  const match = value ? /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(value) : null;
  return match ? { namespace: match[1]!, name: match[2]! } : undefined;
}
