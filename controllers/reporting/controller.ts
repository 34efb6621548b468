// The announcer as a controller on the shared runtime: Build and Repository informers → Build keys →
// Announcer.reconcile; plus the Telegram bot's long polling. Started by `kiln controller`.
import { hostname } from "node:os";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import type { Build } from "../../api/build.ts";
import { isFinished } from "../../api/build.ts";
import { API_VERSION, RESOURCES } from "../../api/group.ts";
import type { Repository } from "../../api/repository.ts";
import { recordEvent } from "../../lib/events.ts";
import { KubeClient } from "../../lib/kube.ts";
import type { Logger } from "../../lib/log.ts";
import { type Clock, systemClock } from "../../lib/runtime/clock.ts";
import { Controller } from "../../lib/runtime/controller.ts";
import type { ObjectKey } from "../../lib/runtime/keys.ts";
import { resourceInformer } from "../../lib/runtime/kube-source.ts";
import type { StoreClient } from "../../lib/store-client.ts";
import { Announcer } from "./announcer.ts";
import { KilnBot } from "./bot.ts";
import type { ChatQueueOptions } from "./chat-queue.ts";
import type { ReportingConfig } from "./config.ts";
import { createGitHubStatuses } from "./github-status.ts";
import { kubeReportingApi, type ReportingApi } from "./kube.ts";
import { githubStateFor } from "./owed.ts";
import { createTelegramClient, TelegramSender } from "./telegram.ts";

/** The component name on the reporting controller's Events. */
export const REPORTING_COMPONENT = "kiln-reporting";

export interface ReportingControllerOptions {
  kubeConfig: KubeConfig;
  /** Shared with the other controllers of the process; made from kubeConfig when unset. */
  client?: KubeClient;
  config: ReportingConfig;
  log: Logger;
  /** Namespaces to watch; all when empty or absent. */
  namespaces?: readonly string[];
  clock?: Clock;
  registry?: Registry;
  workers?: number;
  /** `kiln store`, for /log. */
  store?: StoreClient;
  /** Tests shorten Telegram's and GitHub's waits. */
  tuning?: {
    queue?: Partial<ChatQueueOptions<never>>;
    githubWriteSpacingMs?: number;
    retryAfterBaseValue?: number;
  };
}

export interface ReportingController {
  readonly controller: Controller;
  readonly announcer: Announcer;
  start(): Promise<void>;
  /** Stops taking work and waits for Telegram requests in flight to be recorded. */
  stop(): Promise<void>;
}

/**
 * Whether a Repository change can alter what the announcer owes: its spec (generation) or the blocked
 * chats. The repository controller's own status writes (conditions, lastBuild on every new Build) do not,
 * and would otherwise wake every unfinished Build of the repository for two fresh API reads each.
 */
export function announcerSees(repository: Repository, old: Repository | undefined): boolean {
  if (!old) return true;
  return (
    old.metadata.generation !== repository.metadata.generation ||
    JSON.stringify(old.status?.telegram) !== JSON.stringify(repository.status?.telegram)
  );
}

/** Finished, and both GitHub and Telegram settled: nothing left to do, skip the API reads. */
export function fullyReported(build: Build): boolean {
  const phase = build.status?.phase;
  const reported = build.status?.reported;
  return (
    isFinished(phase) &&
    reported?.telegram === phase &&
    reported?.githubIntent === undefined &&
    reported?.github === githubStateFor(phase)
  );
}

export function reportingController(options: ReportingControllerOptions): ReportingController {
  const { kubeConfig, config } = options;
  const namespaces = options.namespaces ?? [];
  const log = options.log.child({ component: "reporting" });
  const clock = options.clock ?? systemClock;
  const client = options.client ?? new KubeClient(kubeConfig);
  // One namespace is watched directly; several share a cluster-wide watch the informer filters.
  const scope = { namespaces: [...namespaces], clock, log };
  const builds = resourceInformer<KubernetesObject>(client, API_VERSION, RESOURCES.Build.plural, scope);
  const repositories = resourceInformer<KubernetesObject>(
    client,
    API_VERSION,
    RESOURCES.Repository.plural,
    scope,
  );
  const buildsIn = (namespace: string): Build[] => builds.list(namespace) as unknown as Build[];
  const cachedBuild = (key: ObjectKey): Build | undefined =>
    builds.get(key.namespace, key.name) as unknown as Build | undefined;

  const kube = kubeReportingApi(client);
  // The previous build of a branch comes from the cache; everything the announcer writes from is read fresh.
  const api: ReportingApi = { ...kube, listBuilds: async (ns) => buildsIn(ns) };
  const telegram = config.telegramToken
    ? createTelegramClient({ token: config.telegramToken, apiRoot: config.telegramAPIRoot })
    : undefined;
  if (config.telegramOff) log.info(config.telegramOff);
  const announcer = new Announcer({
    api,
    cache: {
      getBuild: async (namespace, name) => builds.get(namespace, name) as unknown as Build | undefined,
      getRepository: async (namespace, name) =>
        repositories.get(namespace, name) as unknown as Repository | undefined,
    },
    github: createGitHubStatuses({
      log: log.child({ component: "github-status" }),
      ...(options.tuning?.githubWriteSpacingMs !== undefined
        ? { writeSpacingMs: options.tuning.githubWriteSpacingMs }
        : {}),
      ...(options.tuning?.retryAfterBaseValue
        ? { retryAfterBaseValue: options.tuning.retryAfterBaseValue }
        : {}),
    }),
    ...(telegram ? { sender: new TelegramSender(telegram) } : {}),
    clock,
    log,
    config: {
      context: config.statusContext,
      ...(config.publicURL ? { publicURL: config.publicURL } : {}),
      ...(config.githubAPIURL ? { githubAPIURL: config.githubAPIURL } : {}),
    },
    queue: { ...options.tuning?.queue, ...(options.registry ? { registry: options.registry } : {}) },
    event: (repository, note) =>
      void recordEvent(client, log, repository, note, {
        now: clock.now(),
        component: REPORTING_COMPONENT,
        host: hostname(),
      }),
  });

  const keyOf = (o: { metadata?: { namespace?: string; name?: string } }): ObjectKey | undefined =>
    o.metadata?.name ? { namespace: o.metadata.namespace ?? "", name: o.metadata.name } : undefined;
  const controller = new Controller({
    name: "reporting",
    log,
    clock,
    ...(options.workers ? { workers: options.workers } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
    reconcile: async (key) => {
      const cached = cachedBuild(key);
      if (cached && fullyReported(cached)) return;
      await announcer.reconcile(key);
    },
    watches: [
      {
        informer: builds,
        keys: (b: KubernetesObject) => (fullyReported(b as unknown as Build) ? undefined : keyOf(b)),
      },
      {
        // A changed Repository (notify settings, a blocked chat retried) concerns its builds still owed something.
        informer: repositories,
        keys: (r: KubernetesObject, old: KubernetesObject | undefined) =>
          !announcerSees(r as Repository, old as Repository | undefined)
            ? undefined
            : buildsIn(r.metadata?.namespace ?? "")
                .filter((b) => b.spec.repository === r.metadata?.name && !fullyReported(b))
                .map((b) => keyOf(b)!)
                .filter(Boolean),
      },
    ],
  });

  const bot =
    config.telegramToken && config.telegramCommands
      ? new KilnBot({
          token: config.telegramToken,
          apiRoot: config.telegramAPIRoot,
          api: kube,
          log: log.child({ component: "telegram-bot" }),
          namespaces,
          ...(options.store ? { store: options.store } : {}),
        })
      : undefined;

  return {
    controller,
    announcer,
    async start() {
      await controller.start();
      // Chat is never allowed to block builds or announcements: a bot that cannot connect only logs.
      await bot?.start().catch((err) => log.error({ err }, "Telegram bot could not start; commands are off"));
    },
    async stop() {
      await bot?.stop();
      await controller.stop();
      await announcer.close();
    },
  };
}
