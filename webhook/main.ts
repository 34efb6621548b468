// `kiln webhook`: wires configuration, logger and Kubernetes clients once, then listens.
import { once } from "node:events";
import { createServer } from "node:http";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../lib/kube.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { storeClientFor } from "../lib/store-client.ts";
import { parseWebhookConfig, USAGE, type WebhookConfig } from "./config.ts";
import { createApp, HOOK_PATH } from "./create-app.ts";
import { kubeBuildSink } from "./kube-builds.ts";
import { cachedSecretSource, kubeSecretReader } from "./kube-secrets.ts";
import { kubeBuildIndex } from "./page/build-index.ts";
import { kubePageAuth } from "./page/page-auth.ts";
import { kubeRepositoryIndex } from "./repository-index.ts";

export interface RunningWebhook {
  url: string;
  close(): Promise<void>;
}

/** `log`: where the server logs, when not JSON on stdout at the configured level (the sandbox's stderr). */
export async function startWebhook(
  config: WebhookConfig,
  options: { log?: Logger } = {},
): Promise<RunningWebhook> {
  const log = options.log ?? createLogger("webhook", { level: config.logLevel });
  const kubeConfig = new KubeConfig();
  if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
  else kubeConfig.loadFromDefault();
  const client = new KubeClient(kubeConfig);
  const repositories = kubeRepositoryIndex(client, config.namespaces, log);
  const builds = kubeBuildIndex(client, config.namespaces, log);
  const tokenFile = config.storeTokenFile;
  const store =
    config.storeURL && tokenFile ? storeClientFor({ url: config.storeURL, tokenFile }) : undefined;
  const app = createApp({
    repositories,
    secrets: cachedSecretSource(kubeSecretReader(client), {
      ttlMs: config.secretCacheSeconds * 1000,
      now: Date.now,
    }),
    builds: kubeBuildSink(client),
    log,
    maxBodyBytes: config.maxBodyBytes,
    page: {
      builds,
      ...(store ? { store } : {}),
      ...(config.pageAuth ? { auth: kubePageAuth(client) } : {}),
      secureCookie: config.publicURL?.startsWith("https:") ?? false,
    },
  });
  void repositories.start();
  void builds.start();
  const server = createServer(app.callback());
  server.listen(config.port, config.host);
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`;
  log.info(
    {
      url,
      hookURL: `${config.publicURL ?? url}${HOOK_PATH}`,
      namespaces: config.namespaces,
      store: config.storeURL ?? "none",
      pageAuth: config.pageAuth,
    },
    "listening",
  );
  return {
    url,
    async close() {
      repositories.stop();
      builds.stop();
      store?.close();
      client.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  let config: WebhookConfig;
  try {
    config = parseWebhookConfig(args, process.env);
  } catch (err) {
    console.error(`kiln webhook: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const running = await startWebhook(config);
  await Promise.race([once(process, "SIGINT"), once(process, "SIGTERM")]);
  await running.close();
  return 0;
}
