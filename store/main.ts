// `kiln store`: wires configuration, backend, Kubernetes client and logger once, then listens: the API
// (and probes) on one port, /metrics on another (build pods reach the first only).
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { collectDefaultMetrics, Registry } from "prom-client";
import { KubeClient } from "../lib/kube.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import type { Backend } from "./backend.ts";
import { CacheStore } from "./caches.ts";
import { parseStoreConfig, type StoreConfig, USAGE } from "./config.ts";
import { createApp } from "./create-app.ts";
import { FileBackend } from "./file-backend.ts";
import { kubeAuthorizer } from "./kube-auth.ts";
import { LogStore } from "./logs.ts";
import { storeMetrics } from "./metrics.ts";
import { S3Backend } from "./s3-backend.ts";
import { Sweeper } from "./sweep.ts";

export interface RunningStore {
  url: string;
  metricsURL: string;
  backend: Backend;
  sweeper: Sweeper;
  close(): Promise<void>;
}

export interface StoreOptions {
  log?: Logger;
  /** Explicit S3 credentials (tests); otherwise the AWS SDK's chain. */
  s3Credentials?: { accessKeyId: string; secretAccessKey: string };
  now?: () => number;
}

/** How long a stop waits for requests under way (uploads, follows end at once) before it cuts them. */
const GRACE_MS = 20_000;
/** How long one followed read stays open. */
const FOLLOW_MS = 300_000;

export async function startStore(config: StoreConfig, options: StoreOptions = {}): Promise<RunningStore> {
  const log = options.log ?? createLogger("store", { level: config.logLevel });
  const now = options.now ?? Date.now;
  const kubeConfig = new KubeConfig();
  if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
  else kubeConfig.loadFromCluster();
  const client = new KubeClient(kubeConfig);
  const backend: Backend =
    config.backend === "s3"
      ? new S3Backend({
          bucket: config.s3Bucket!,
          prefix: config.s3Prefix,
          region: config.s3Region,
          forcePathStyle: config.s3ForcePathStyle,
          partBytes: config.s3PartBytes,
          ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
          ...(options.s3Credentials ? { credentials: options.s3Credentials } : {}),
        })
      : await FileBackend.open(config.dir);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = storeMetrics(registry);
  const logs = new LogStore(backend, {
    maxLogBytes: config.maxLogBytes,
    // A directory has one writer, this process: it hears of every append. A bucket is looked at again.
    pollMs: backend.shared ? 1000 : 10_000,
    now,
  });
  const sweeper = new Sweeper({
    backend,
    logs,
    logRetentionMs: config.logRetentionMs,
    cacheMaxBytes: config.cacheMaxBytes,
    intervalMs: config.sweepIntervalMs,
    log,
    metrics,
    now,
  });
  const caches = new CacheStore(backend, (size) => sweeper.saved(size));
  const stopping = new AbortController();
  const app = createApp({
    backend,
    logs,
    caches,
    auth: kubeAuthorizer(
      client,
      {
        audience: config.audience,
        readAudiences: config.readAudiences,
        agentServiceAccount: config.agentServiceAccount,
      },
      now,
    ),
    metrics,
    log,
    limits: {
      maxChunkBytes: config.maxChunkBytes,
      maxArchiveBytes: config.maxArchiveBytes,
      followMs: FOLLOW_MS,
    },
    stopping: stopping.signal,
  });
  const handler = app.callback();
  const server = createServer(handler);
  // Expect: 100-continue is answered by the routes once a request is authorised, so a refused upload
  // is refused before its body is sent.
  server.on("checkContinue", handler);
  // Uploads of large caches and followed logs outlive Node's default 5-minute request timeout.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  const metricsServer = createServer(async (req, res) => {
    if (req.url === "/metrics") {
      res.writeHead(200, { "content-type": registry.contentType });
      res.end(await registry.metrics());
    } else if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else {
      res.writeHead(404).end();
    }
  });
  const port = await listen(server, config.port, config.host);
  const metricsPort = await listen(metricsServer, config.metricsPort, config.metricsHost);
  sweeper.start();
  const shown = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;
  const url = `http://${shown}:${port}`;
  const metricsURL = `http://${config.metricsHost === "0.0.0.0" ? "127.0.0.1" : config.metricsHost}:${metricsPort}`;
  log.info({ url, metricsURL, backend: backend.kind }, "listening");
  return {
    url,
    metricsURL,
    backend,
    sweeper,
    async close() {
      stopping.abort();
      await sweeper.stop();
      const closed = Promise.all([close(server), close(metricsServer)]);
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), GRACE_MS);
      await closed;
      clearTimeout(timer);
      client.close();
      if (backend instanceof S3Backend) backend.close();
    },
  };
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  server.listen(port, host);
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  let config: StoreConfig;
  try {
    config = parseStoreConfig(args, process.env);
  } catch (err) {
    console.error(`kiln store: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  let running: RunningStore;
  try {
    running = await startStore(config);
  } catch (err) {
    console.error(`kiln store: cannot start: ${(err as Error).message}`);
    return 1;
  }
  await Promise.race([once(process, "SIGINT"), once(process, "SIGTERM")]);
  await running.close();
  return 0;
}
