// `kiln controller`: every Kiln controller in one process behind one leader election, with /metrics and
// /healthz. Another controller joins with one entry in MODULES.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { collectDefaultMetrics, Registry } from "prom-client";
import { KubeClient, resourcePath } from "../lib/kube.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { LeaderElector } from "../lib/runtime/leader-election.ts";
import { kubeLeaseStore } from "../lib/runtime/lease-store.ts";
import type { ControllerContext, ControllerModule, Runnable } from "../lib/runtime/module.ts";
import { buildModule } from "./build/module.ts";
import { ConfigError, type ControllerConfig, parseControllerConfig, USAGE } from "./config.ts";
import { reportingModule } from "./reporting/module.ts";
import { repositoryModule } from "./repository/module.ts";

/** A controller of `kiln controller`: lib/runtime/module.ts with this process's configuration. */
export type KilnModule = ControllerModule<ControllerConfig>;
export type KilnContext = ControllerContext<ControllerConfig>;

/**
 * The image this controller runs, read from its own Pod (KILN_NAMESPACE, KILN_POD_NAME from the downward
 * API): build pods' fetch and agent containers run the same one. Undefined outside a pod.
 */
export async function ownImage(client: KubeClient, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const namespace = env.KILN_NAMESPACE;
  const name = env.KILN_POD_NAME;
  if (!namespace || !name) return undefined;
  const pod = await client.get<V1Pod>(resourcePath("v1", "pods", namespace, name));
  const containers = pod.spec?.containers ?? [];
  return (containers.find((c) => c.args?.[0] === "controller") ?? containers[0])?.image;
}

export const MODULES: KilnModule[] = [buildModule, reportingModule, repositoryModule];

export interface RunningControllers {
  /** The port /metrics and /healthz listen on. */
  port: number;
  isLeader(): boolean;
  /** Stops acting, releases the lease, closes the server. */
  stop(): Promise<void>;
  /** Resolves when leadership is lost (the caller should exit: another replica acts now). */
  lost: Promise<void>;
}

export async function runControllers(
  config: ControllerConfig,
  options: {
    kubeConfig: KubeConfig;
    log: Logger;
    args?: string[];
    env?: NodeJS.ProcessEnv;
    modules?: KilnModule[];
  },
): Promise<RunningControllers> {
  const { kubeConfig, log } = options;
  const client = new KubeClient(kubeConfig);
  if (!config.image) {
    const image = await ownImage(client, options.env ?? {});
    if (image) config = { ...config, image };
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const context: KilnContext = {
    kubeConfig,
    client,
    config,
    log,
    registry,
    args: options.args ?? [],
    env: options.env ?? {},
  };
  const running: Runnable[] = [];
  const available = options.modules ?? MODULES;
  const unknown = config.controllers.filter((name) => !available.some((m) => m.name === name));
  if (unknown.length > 0) throw new ConfigError(`--controllers: no controller named ${unknown.join(", ")}`);
  const modules = available.filter(
    (m) => config.controllers.length === 0 || config.controllers.includes(m.name),
  );
  for (const module of modules) running.push(await module.create(context));

  let leading = false;
  let started = false;
  let startAll: Promise<void> | undefined;
  const lost = Promise.withResolvers<void>();
  const onStarted = () => {
    leading = true;
    startAll = Promise.all(running.map((r) => r.start())).then(() => {
      started = leading;
      log.info("controllers started");
    });
    startAll.catch((err) => log.error({ err: String(err) }, "a controller failed to start"));
  };
  const stopAll = async () => {
    leading = false;
    started = false;
    await Promise.all(running.map((r) => r.stop()));
  };
  const elector = config.leaderElection.enabled
    ? new LeaderElector({
        store: kubeLeaseStore(kubeConfig, config.leaderElection.namespace, config.leaderElection.name),
        identity: config.leaderElection.identity,
        leaseDurationMs: config.leaderElection.leaseDurationMs,
        renewDeadlineMs: config.leaderElection.renewDeadlineMs,
        retryPeriodMs: config.leaderElection.retryPeriodMs,
        log,
        onStartedLeading: onStarted,
        onStoppedLeading: () => {
          // Stop acting at once; the caller exits, as client-go controllers do.
          void stopAll().finally(() => lost.resolve());
        },
      })
    : undefined;

  const server = http.createServer(async (req, res) => {
    if (req.url === "/metrics") {
      res.writeHead(200, { "content-type": registry.contentType });
      res.end(await registry.metrics());
    } else if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n");
    } else if (req.url === "/readyz") {
      // Ready means acting: the leader (or the only replica) with its caches synced and workers running.
      const ready = leading && started;
      res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" });
      res.end(ready ? "leader\n" : leading ? "starting\n" : "standby\n");
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.metricsPort, config.metricsHost, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, identity: config.leaderElection.identity }, "metrics and health endpoints listening");

  if (elector) elector.start();
  else onStarted();

  return {
    port,
    isLeader: () => leading,
    lost: lost.promise,
    async stop() {
      if (elector) await elector.stop();
      else await stopAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      client.close();
    },
  };
}

function loadKubeConfig(config: ControllerConfig): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
    else kubeConfig.loadFromCluster();
  } catch (err) {
    throw new ConfigError(
      `cannot load the kubeconfig ${config.kubeconfig ?? "(in-cluster)"}: ${(err as Error).message}`,
    );
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new ConfigError(`the kubeconfig ${config.kubeconfig ?? "(in-cluster)"} names no current cluster`);
  }
  return kubeConfig;
}

export async function main(args: string[]): Promise<number> {
  const usage = [USAGE, ...MODULES.flatMap((m) => (m.usage ? [m.usage] : []))].join("\n");
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    return 0;
  }
  const otherFlags = Object.assign({}, ...MODULES.map((m) => m.flags ?? {}));
  let config: ControllerConfig;
  try {
    config = parseControllerConfig(args, process.env, otherFlags);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`kiln controller: ${err.message}\n\n${usage}`);
    return 2;
  }
  const log = createLogger("controller", { level: config.logLevel });
  let handle: RunningControllers;
  try {
    handle = await runControllers(config, {
      kubeConfig: loadKubeConfig(config),
      log,
      args,
      env: process.env,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`kiln controller: ${err.message}`);
    return 2;
  }
  const signalled = new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  const outcome = await Promise.race([signalled, handle.lost.then(() => "lost")]);
  if (outcome === "lost") {
    log.error("lost leadership; exiting so a fresh process can campaign again");
    await handle.stop().catch(() => {});
    return 1;
  }
  log.info({ signal: outcome }, "shutting down");
  await handle.stop();
  return 0;
}
