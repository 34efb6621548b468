// In-memory dependencies and a signed-delivery client for tests and the bench (never used in production).
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sign } from "@octokit/webhooks-methods";
import { API_VERSION } from "../api/group.ts";
import { type Repository, type RepositoryInput, repository as repositorySchema } from "../api/repository.ts";
import { silentLogger } from "../lib/log.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./config.ts";
import { createApp, HOOK_PATH } from "./create-app.ts";
import type { BuildSink, RepositoryLookup, SecretSource, WebhookDeps } from "./deps.ts";
import { githubKey, indexRepositories } from "./repository-index.ts";

export function makeRepository(
  name: string,
  owner: string,
  repo: string,
  spec: Partial<RepositoryInput["spec"]> = {},
  namespace = "default",
): Repository {
  return repositorySchema.parse({
    apiVersion: API_VERSION,
    kind: "Repository",
    metadata: { name, namespace },
    spec: {
      github: { owner, name: repo },
      webhook: { secretRef: { name: `${name}-webhook`, key: "secret" } },
      ...spec,
    },
  });
}

export function memoryRepositories(repositories: Repository[]): RepositoryLookup {
  const { index, byName } = indexRepositories(repositories);
  return {
    ready: () => true,
    find: (owner, name) => index.get(githubKey(owner, name)) ?? [],
    named: (namespace, name) => byName.get(`${namespace}/${name}`),
  };
}

/** Secrets by Repository name. */
export function memorySecrets(secrets: Record<string, string[]>): SecretSource {
  return { webhookSecrets: async (repository) => secrets[repository.metadata.name ?? ""] ?? [] };
}

/** Accepts every Build and keeps `<namespace>/<name>` of each, as names are per namespace. */
export function memoryBuildSink(): BuildSink & { names: Set<string> } {
  const names = new Set<string>();
  return {
    names,
    async create(build) {
      const name = `${build.metadata.namespace ?? "default"}/${build.metadata.name!}`;
      if (names.has(name)) return "exists";
      names.add(name);
      return "created";
    },
  };
}

export interface TestWebhook {
  url: string;
  server: Server;
  builds: BuildSink;
  close(): Promise<void>;
}

export async function serveApp(
  deps: Partial<WebhookDeps> & Pick<WebhookDeps, "repositories" | "secrets">,
): Promise<TestWebhook & { names: Set<string> }> {
  const sink = memoryBuildSink();
  const builds = deps.builds ?? sink;
  const app = createApp({ log: silentLogger(), maxBodyBytes: DEFAULT_MAX_BODY_BYTES, ...deps, builds });
  const server = createServer(app.callback());
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${HOOK_PATH}`,
    server,
    builds,
    names: sink.names,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Delivery {
  event: string;
  payload: unknown;
  secret?: string;
  id?: string;
  /** Overrides the computed signature (undefined leaves the header out when secret is unset). */
  signature?: string;
  body?: string;
}

export async function deliver(
  url: string,
  delivery: Delivery,
): Promise<{ status: number; body: { message: string; builds?: string[] } }> {
  const body = delivery.body ?? JSON.stringify(delivery.payload);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": delivery.event,
    "x-github-delivery": delivery.id ?? randomUUID(),
    "user-agent": "GitHub-Hookshot/test",
  };
  const signature = delivery.signature ?? (delivery.secret ? await sign(delivery.secret, body) : undefined);
  if (signature !== undefined) headers["x-hub-signature-256"] = signature;
  const response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: (await response.json()) as { message: string; builds?: string[] } };
}
