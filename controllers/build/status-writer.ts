// Writing the controller's part of a Build's status: only when it changed, and guarded by the Build's
// resourceVersion, so a decision taken on a stale cache is refused (409, retried on fresh state) instead of
// overwriting a newer status.
import type { Build } from "../../api/build.ts";
import type { KubeClient } from "../../lib/kube.ts";
import { isNotFound } from "../../lib/kube-errors.ts";
import { buildPath } from "./kube-paths.ts";
import { OWNED_FIELDS, type OwnedStatus, statusChanged } from "./owned-status.ts";

/** Whether it wrote: false when nothing changed or the Build is gone. */
export async function writeStatus(
  client: KubeClient,
  build: Build,
  before: OwnedStatus,
  after: OwnedStatus,
): Promise<boolean> {
  if (!statusChanged(before, after)) return false;
  const patch = {
    metadata: { resourceVersion: build.metadata.resourceVersion },
    status: Object.fromEntries(OWNED_FIELDS.map((f) => [f, after[f] ?? null])),
  };
  try {
    await client.mergePatch(`${buildPath(build)}/status`, patch);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
