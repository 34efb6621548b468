// history.keep: once a build finishes, the repository's finished builds beyond it are deleted (their pods
// go with them, by owner reference). Which ones is queueing.ts's beyondHistory; this carries it out.
import type { Build } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import type { KubeClient } from "../../lib/kube.ts";
import { isNotFound } from "../../lib/kube-errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { Informer } from "../../lib/runtime/informer.ts";
import { FINISHED_BY_REPOSITORY, repositoryIndexKey } from "./indexes.ts";
import { buildPath } from "./kube-paths.ts";
import { beyondHistory } from "./queueing.ts";

export interface PruneDeps {
  client: KubeClient;
  builds: Informer<Build>;
  log: Logger;
}

/** `finished` is the build as just written (the cache may still show it unfinished). */
export async function pruneHistory(deps: PruneDeps, finished: Build, repo: Repository): Promise<void> {
  const others = deps.builds
    .byIndex(FINISHED_BY_REPOSITORY, repositoryIndexKey(finished))
    .filter((b) => b.metadata.name !== finished.metadata.name);
  for (const old of beyondHistory([...others, finished], repo)) {
    deps.log.info({ build: old.metadata.name }, "deleting build beyond history.keep");
    await deps.client.delete(buildPath(old), { propagationPolicy: "Background" }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}
