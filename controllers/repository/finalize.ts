// A deleted Repository: remove its webhook from GitHub, then the finalizer. A failed attempt is retried
// (the finalizer stays); a hook already gone (404) counts as removed, so the hook is deleted once.

import { FINALIZERS } from "../../api/group.ts";
import type { Repository } from "../../api/repository.ts";
import type { RepositoryDeps, RepositoryMemory } from "./deps.ts";
import { hookURL } from "./desired-hook.ts";
import { statusOf } from "./github.ts";

export async function finalize(
  repository: Repository,
  deps: RepositoryDeps,
  memory: RepositoryMemory,
): Promise<void> {
  const finalizers = repository.metadata.finalizers ?? [];
  if (!finalizers.includes(FINALIZERS.webhook)) return;
  const namespace = repository.metadata.namespace ?? "default";
  const log = deps.log.child({ namespace, name: repository.metadata.name });
  const ref = repository.spec.tokenSecretRef;
  // The token Secret is often deleted together with the Repository: fall back to the last one used.
  const token = (ref && (await deps.readSecretKey(namespace, ref.name, ref.key))) || memory.token;
  const url = hookURL(repository, deps.webhookURL);
  if (!token) {
    log.warn(
      { hookID: repository.status?.hookID },
      "no GitHub token to remove the webhook with; leaving it on GitHub",
    );
  } else {
    const gh = deps.gitHub({
      owner: repository.spec.github.owner,
      repo: repository.spec.github.name,
      token,
      ...((repository.spec.github.apiURL ?? deps.apiURL) && {
        baseUrl: repository.spec.github.apiURL ?? deps.apiURL,
      }),
    });
    try {
      const ours = (await gh.listHooks()).filter(
        (h) => h.id === repository.status?.hookID || (url !== undefined && h.config.url === url),
      );
      for (const hook of ours) {
        const removed = await gh.deleteHook(hook.id);
        log.info({ hookID: hook.id, removed }, "webhook removed");
      }
    } catch (err) {
      // The repository itself is gone from GitHub (or out of reach of this token for good): nothing to remove.
      if (statusOf(err) !== 404 && statusOf(err) !== 401) throw err;
      log.warn({ status: statusOf(err) }, "cannot see the repository's webhooks any more; leaving them");
    }
  }
  await deps.patchMetadata(namespace, repository.metadata.name!, {
    resourceVersion: repository.metadata.resourceVersion,
    finalizers: finalizers.filter((f) => f !== FINALIZERS.webhook),
  });
}
