// The build pages' integration world: the store's world (store-harness.ts: the test API server, the store
// under its install RBAC, build pods with their agents' tokens) and `kiln webhook` under its own install
// RBAC (manifests/base/rbac/webhook.yaml, applied with kubectl) with its own tokens — the API server's
// audience for its kubeconfig, kiln-store's for the store — so the pages see exactly what the install lets
// them. Builds are made by hand and their logs appended as their agents append them.
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { Build } from "../../api/build.ts";
import { API_VERSION } from "../../api/group.ts";
import { STORE_AUDIENCE } from "../../api/store-protocol.ts";
import { resourcePath } from "../../lib/kube.ts";
import { builds } from "../../lib/kube-objects.ts";
import { StoreClient } from "../../lib/store-client.ts";
import { writeKubeconfig } from "../../stand-ins/cluster/kubeconfig.ts";
import type { RunningStore } from "../../store/main.ts";
import { webhookConfig } from "../../webhook/config.ts";
import { type RunningWebhook, startWebhook } from "../../webhook/main.ts";
import { waitFor } from "../wait-for.ts";
import { buildPod, requestToken, runStore, type StoreWorld, startWorld } from "./store-harness.ts";

const root = resolve(import.meta.dirname, "../..");

export interface PageWorld {
  world: StoreWorld;
  store: RunningStore;
  webhook: RunningWebhook;
  /** The webhook's address, where the pages are. */
  base: string;
  /** A second webhook of the same install with --page-auth. */
  guarded: RunningWebhook;
  stop(): Promise<void>;
}

export async function startPageWorld(): Promise<PageWorld> {
  const world = await startWorld();
  await promisify(execFile)(resolve(root, ".tools/bin/kubectl"), [
    "--kubeconfig",
    world.cluster.kubeconfigPath,
    "apply",
    "-n",
    "kiln",
    "-f",
    resolve(root, "manifests/base/rbac/webhook.yaml"),
  ]);
  const dir = await mkdtemp(join(world.scratch, "page-"));
  const kubeconfig = join(dir, "webhook.kubeconfig");
  await writeKubeconfig(kubeconfig, {
    server: world.cluster.url,
    caPem: world.cluster.server.caPem,
    token: await requestToken(world.admin, "kiln", "kiln-webhook", {}),
    name: "kiln-webhook",
  });
  const storeTokenFile = join(dir, "store-token");
  await writeFile(
    storeTokenFile,
    await requestToken(world.admin, "kiln", "kiln-webhook", { audiences: [STORE_AUDIENCE] }),
  );
  const store = await runStore(world, { kind: "files", dir: join(dir, "store") });
  const start = (pageAuth: boolean) =>
    startWebhook(
      webhookConfig.parse({
        kubeconfig,
        host: "127.0.0.1",
        port: 0,
        storeURL: store.url,
        storeTokenFile,
        pageAuth,
        logLevel: process.env.KILN_TEST_LOG || "silent",
      }),
    );
  const webhook = await start(false);
  const guarded = await start(true);
  return {
    world,
    store,
    webhook,
    guarded,
    base: webhook.url,
    async stop() {
      await webhook.close();
      await guarded.close();
      await store.close();
      await world.stop();
    },
  };
}

/** A Repository (for its GitHub name on the pages). */
export async function createRepository(pw: PageWorld, namespace: string, name: string): Promise<void> {
  await pw.world.admin.create(resourcePath(API_VERSION, "repositories", namespace), {
    apiVersion: API_VERSION,
    kind: "Repository",
    metadata: { name, namespace },
    spec: {
      github: { owner: "acme", name },
      webhook: { secretRef: { name: `${name}-hook`, key: "secret" } },
    },
  });
}

export interface HandMadeBuild {
  name: string;
  /** Appends to a step's log as its agent does (with the pod's token). */
  append(step: string, text: string, complete?: boolean): Promise<void>;
  setStatus(status: NonNullable<Build["status"]>): Promise<void>;
}

/** A Build of `repository` on main with its pod, and its agent's store client. */
export async function handMadeBuild(
  pw: PageWorld,
  namespace: string,
  name: string,
  repository: string,
): Promise<HandMadeBuild> {
  const { token } = await buildPod(pw.world, { namespace, build: name, repository, branch: "main" });
  const agent = new StoreClient({ url: pw.store.url, token: () => token, retries: 0 });
  const offsets = new Map<string, number>();
  return {
    name,
    async append(step, text, complete = false) {
      const answer = await agent.append(
        { namespace, build: name, step },
        offsets.get(step) ?? 0,
        Buffer.from(text),
        {
          complete,
        },
      );
      offsets.set(step, answer.length);
    },
    async setStatus(status) {
      await builds(pw.world.admin).patchStatus(namespace, name, undefined, status);
    },
  };
}

/** Waits until the page answers 200 (the webhook's caches have listed, or caught up with a change). */
export async function pageReady(
  base: string,
  path: string,
  ok: (text: string) => boolean = () => true,
): Promise<string> {
  return waitFor(`${path} to answer 200`, async () => {
    const res = await fetch(`${base}${path}`);
    const text = await res.text();
    return res.status === 200 && ok(text) ? text : undefined;
  });
}

/**
 * The pages' two Builds of repository `app` in `namespace` (made here): app-1 Failed at its step "test",
 * whose message and log hold `failingLine`, and app-2 Running its step "build" ("first line" so far).
 */
export async function seedBuilds(
  pw: PageWorld,
  namespace: string,
  failingLine: string,
): Promise<{ failed: HandMadeBuild; running: HandMadeBuild }> {
  await pw.world.admin.create(resourcePath("v1", "namespaces"), {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: namespace },
  });
  await createRepository(pw, namespace, "app");
  const failed = await handMadeBuild(pw, namespace, "app-1", "app");
  await failed.setStatus({
    phase: "Failed",
    startTime: "2026-01-01T00:00:00Z",
    completionTime: "2026-01-01T00:01:00Z",
    duration: "1m",
    steps: [
      {
        name: "build",
        phase: "Succeeded",
        exitCode: 0,
        startTime: "2026-01-01T00:00:01Z",
        completionTime: "2026-01-01T00:00:21Z",
      },
      {
        name: "test",
        phase: "Failed",
        exitCode: 3,
        startTime: "2026-01-01T00:00:21Z",
        completionTime: "2026-01-01T00:00:59Z",
        message: failingLine,
      },
    ],
  });
  await failed.append("build", "compiled\n", true);
  await failed.append("test", `ok 1\n${failingLine}\n`, true);
  const running = await handMadeBuild(pw, namespace, "app-2", "app");
  await running.setStatus({
    phase: "Running",
    startTime: new Date().toISOString(),
    steps: [{ name: "build", phase: "Running" }],
  });
  await running.append("build", "first line\n");
  return { failed, running };
}
