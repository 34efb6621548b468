// The build controller: Builds, their pods and Repositories watched → Build keys → reconcile.
import type { V1Pod } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import { type Build, isFinished } from "../../api/build.ts";
import { API_VERSION, LABELS } from "../../api/group.ts";
import type { Repository } from "../../api/repository.ts";
import { GitHubClients } from "../../lib/github.ts";
import type { KubeClient } from "../../lib/kube.ts";
import { readSecretKey } from "../../lib/kube-secrets.ts";
import type { Logger } from "../../lib/log.ts";
import { type Clock, systemClock } from "../../lib/runtime/clock.ts";
import { Controller } from "../../lib/runtime/controller.ts";
import type { Informer, InformerEventType } from "../../lib/runtime/informer.ts";
import { controllerOwnerKey, keyOf, type ObjectKey } from "../../lib/runtime/keys.ts";
import { resourceInformer } from "../../lib/runtime/kube-source.ts";
import type { ControllerConfig } from "../config.ts";
import { ACTIVE_BY_REPOSITORY, addBuildIndexes, repositoryIndexKey } from "./indexes.ts";
import { type ManifestParser, ManifestSource } from "./manifest-source.ts";
import { buildMetrics } from "./metrics.ts";
import { buildReconciler } from "./reconcile.ts";

export interface BuildControllerOptions {
  client: KubeClient;
  /** With Kiln's image resolved (runControllers finds it when the configuration does not name it). */
  config: ControllerConfig & { image: string };
  log: Logger;
  registry: Registry;
  parse: ManifestParser;
  clock?: Clock;
}

export interface BuildController {
  controller: Controller;
  builds: Informer<Build>;
  pods: Informer<V1Pod>;
  repositories: Informer<Repository>;
}

const keysOf = (builds: readonly Build[]): ObjectKey[] => builds.flatMap((b) => keyOf(b) ?? []);

/**
 * The Builds to look at when one changes: itself; on a new one, the other unfinished builds of its branch
 * (it may supersede them); when one finishes or goes, the queued ones (a slot is free). Not on every
 * status write.
 */
export function buildEventKeys(
  build: Build,
  old: Build | undefined,
  type: InformerEventType,
  siblings: (b: Build) => readonly Build[],
): ObjectKey[] {
  const keys = keysOf([build]);
  const branch = build.spec.revision.branch;
  if (type === "add") {
    if (branch !== undefined)
      keys.push(...keysOf(siblings(build).filter((b) => b.spec.revision.branch === branch)));
  } else if (type === "delete" || (isFinished(build.status?.phase) && !isFinished(old?.status?.phase))) {
    keys.push(...keysOf(siblings(build).filter((b) => b.status?.podName === undefined)));
  }
  return keys;
}

export function createBuildController(options: BuildControllerOptions): BuildController {
  const { client, config, log } = options;
  const clock = options.clock ?? systemClock;
  const common = { clock, log, namespaces: config.namespaces };
  const builds = resourceInformer<Build>(client, API_VERSION, "builds", common);
  const repositories = resourceInformer<Repository>(client, API_VERSION, "repositories", common);
  // Only build pods: they carry the build label.
  const pods = resourceInformer<V1Pod>(client, "v1", "pods", { ...common, labelSelector: LABELS.build });
  addBuildIndexes(builds);

  const manifests = new ManifestSource({
    githubApiURL: config.githubApiURL,
    github: new GitHubClients({ log, userAgent: "kiln-build-controller" }),
    parse: options.parse,
    // A token the Repository names but whose Secret is not there (yet) holds the build Queued, saying so.
    token: async (repository) => {
      const ref = repository.spec.tokenSecretRef;
      if (!ref) return undefined;
      const token = await readSecretKey(client, repository.metadata.namespace!, ref.name, ref.key);
      if (token === undefined)
        throw new Error(
          `the Secret ${ref.name} (key ${ref.key}) that spec.tokenSecretRef names is not there`,
        );
      return token;
    },
  });

  const reconcile = buildReconciler({
    client,
    builds,
    repositories,
    pods,
    manifests,
    clock,
    log,
    metrics: buildMetrics(options.registry, () => builds.list()),
    config: { ...config, identity: config.leaderElection.identity },
  });

  const siblingsOf = (b: Build) =>
    builds.byIndex(ACTIVE_BY_REPOSITORY, repositoryIndexKey(b)).filter((x) => x !== b);
  const controller = new Controller({
    name: "build",
    log,
    clock,
    workers: config.workers,
    registry: options.registry,
    reconcile,
    watches: [
      { informer: builds, keys: (b: Build, old, type) => buildEventKeys(b, old, type, siblingsOf) },
      { informer: pods, keys: (p: V1Pod) => controllerOwnerKey(p, API_VERSION, "Build") },
      {
        informer: repositories,
        // Builds read only the spec: a status write (the repository controller's lastBuild on every new
        // Build) must not wake all of the repository's active builds.
        keys: (r: Repository, old: Repository | undefined) =>
          old && old.metadata.generation === r.metadata.generation
            ? undefined
            : keysOf(builds.byIndex(ACTIVE_BY_REPOSITORY, `${r.metadata.namespace}/${r.metadata.name}`)),
      },
    ],
  });
  return { controller, builds, pods, repositories };
}
