// `kiln controller` wiring for Repositories: informers over Repositories and Builds, one reconciler.
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";
import { API_VERSION, LABELS, RESOURCES } from "../../api/group.ts";
import { repository as repositorySchema } from "../../api/repository.ts";
import { type GitHubClientOptions, GitHubClients } from "../../lib/github.ts";
import { KubeClient } from "../../lib/kube.ts";
import type { Logger } from "../../lib/log.ts";
import type { Clock } from "../../lib/runtime/clock.ts";
import { systemClock } from "../../lib/runtime/clock.ts";
import { Controller } from "../../lib/runtime/controller.ts";
import { keyOf } from "../../lib/runtime/keys.ts";
import { resourceInformer } from "../../lib/runtime/kube-source.ts";
import type { RateLimitOptions } from "../../lib/runtime/rate-limit.ts";
import type { BuildAccessConfig } from "./build-access.ts";
import { buildAccessReconciler, namespaceKey } from "./build-access-reconcile.ts";
import type { RepositoryDeps } from "./deps.ts";
import { gitHubClient, type RepoGitHub } from "./github.ts";
import { kubeRepositoryWrites } from "./kube.ts";
import { createReconciler } from "./reconcile.ts";

export interface RepositoryControllerOptions {
  kubeConfig: KubeConfig;
  /** Shared with the other controllers of the process; made from kubeConfig when unset. */
  client?: KubeClient;
  log: Logger;
  /** Namespaces to watch; all when empty or unset (as the controller config's `namespaces`). */
  namespaces?: readonly string[];
  webhookURL?: string;
  apiURL?: string;
  intervalMs?: number;
  graceMs?: number;
  clock?: Clock;
  github?: Partial<GitHubClientOptions>;
  /** Retry pacing of failed reconciles (the runtime's defaults when unset). */
  rateLimit?: RateLimitOptions;
  /** Keep each Repository namespace's build access (agent account, webhook Secret reads, NetworkPolicy); off when unset. */
  buildAccess?: BuildAccessConfig;
}

export interface RepositoryController {
  start(): Promise<void>;
  stop(): Promise<void>;
}

const BY_REPOSITORY = "repository";

export function createRepositoryController(options: RepositoryControllerOptions): RepositoryController {
  const { kubeConfig } = options;
  const client = options.client ?? new KubeClient(kubeConfig);
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ controller: "repository" });
  // One namespace is watched directly; several share a cluster-wide watch the informer filters.
  const scope = { namespaces: [...(options.namespaces ?? [])], clock, log };
  const repositories = resourceInformer<KubernetesObject>(
    client,
    API_VERSION,
    RESOURCES.Repository.plural,
    scope,
  );
  const builds = resourceInformer<KubernetesObject>(client, API_VERSION, RESOURCES.Build.plural, scope);
  builds.addIndex(BY_REPOSITORY, (object) => {
    const b = object as unknown as Build;
    return [`${b.metadata?.namespace}/${b.metadata?.labels?.[LABELS.repository] ?? b.spec?.repository}`];
  });
  const clients = new Map<string, RepoGitHub>();
  const github = new GitHubClients({ log, userAgent: "kiln-repository-controller", ...options.github });
  const deps: RepositoryDeps = {
    ...kubeRepositoryWrites(client),
    getRepository(ns, name) {
      const object = repositories.get(ns, name);
      if (!object) return undefined;
      // Defaults the API server may not have applied (older objects); an invalid one is reported once per pass.
      const parsed = repositorySchema.safeParse(object);
      if (!parsed.success) {
        log.warn(
          { namespace: ns, name, issues: parsed.error.issues.slice(0, 3) },
          "Repository does not parse",
        );
        return undefined;
      }
      return parsed.data;
    },
    listBuilds: (ns, repository) =>
      builds.byIndex(BY_REPOSITORY, `${ns}/${repository}`) as unknown as Build[],
    gitHub(target) {
      // One client per repository and token, so Octokit's throttling state carries across passes.
      const key = JSON.stringify(target);
      let client = clients.get(key);
      if (!client) {
        client = gitHubClient(target, github);
        clients.set(key, client);
      }
      return client;
    },
    now: () => clock.now(),
    log,
    ...(options.webhookURL && { webhookURL: options.webhookURL }),
    ...(options.apiURL && { apiURL: options.apiURL }),
    intervalMs: options.intervalMs ?? 120_000,
    graceMs: options.graceMs ?? 60_000,
  };
  const seenBuilds = new Set<string>();
  const controllers = [
    new Controller({
      name: "repository",
      reconcile: createReconciler(deps),
      watches: [
        {
          informer: repositories,
          keys: keyOf,
        },
        // A new Build changes the Repository's lastBuild. Only a Build not seen before wakes the reconciler
        // (each pass asks GitHub), not every step a Build records.
        {
          informer: builds,
          keys: (b: KubernetesObject) => {
            const build = b as unknown as Build;
            const namespace = build.metadata?.namespace;
            const uid = build.metadata?.uid;
            if (!uid || seenBuilds.has(uid) || !build.spec?.repository) return undefined;
            // Bounded: forgetting only means one more (harmless) pass for a Build seen again.
            if (seenBuilds.size >= 10_000) seenBuilds.clear();
            seenBuilds.add(uid);
            return { namespace: namespace ?? "default", name: build.spec.repository };
          },
        },
      ],
      log,
      clock,
      ...(options.rateLimit && { rateLimit: options.rateLimit }),
    }),
  ];
  if (options.buildAccess) {
    const reconcile = buildAccessReconciler({
      client,
      config: options.buildAccess,
      log: log.child({ reconciler: "build-access" }),
      intervalMs: options.intervalMs ?? 120_000,
      repositoriesIn: (namespace) =>
        repositories.list(namespace).flatMap((o) => {
          const parsed = repositorySchema.safeParse(o);
          return parsed.success ? [parsed.data] : [];
        }),
    });
    controllers.push(
      new Controller({
        name: "build-access",
        reconcile,
        // One key per namespace: any Repository there changing (created, deleted, its webhook secret) counts.
        watches: [
          {
            informer: repositories,
            keys: (o: KubernetesObject) => namespaceKey(o.metadata?.namespace ?? "default"),
          },
        ],
        log,
        clock,
        workers: 2,
        ...(options.rateLimit && { rateLimit: options.rateLimit }),
      }),
    );
  }
  return {
    start: async () => {
      await Promise.all(controllers.map((c) => c.start()));
    },
    stop: async () => {
      await Promise.all(controllers.map((c) => c.stop()));
    },
  };
}
