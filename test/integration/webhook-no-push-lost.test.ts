// End to end on one machine: the test API server, the fake GitHub, `kiln webhook` (startWebhook) and
// the repository controller. GitHub delivers signed pushes; Builds appear in the cluster; a duplicate
// delivery makes one Build; a forged one makes none; while the API server is unreachable deliveries fail
// with 503, and afterwards the controller's redelivery or catch-up builds what was missed.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";
import { GROUP, VERSION } from "../../api/group.ts";
import {
  createRepositoryController,
  type RepositoryController,
} from "../../controllers/repository/controller.ts";
import { silentLogger } from "../../lib/log.ts";
import { writeKubeconfig } from "../../stand-ins/cluster/kubeconfig.ts";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { type FakeGitHub, startFakeGitHub } from "../../stand-ins/github/index.ts";
import { stopAll } from "../../stand-ins/teardown.ts";
import { webhookConfig } from "../../webhook/config.ts";
import { type RunningWebhook, startWebhook } from "../../webhook/main.ts";
import { createRepository } from "../fakes/kube-repository.ts";
import { deliver } from "../fixtures/webhook.ts";
import { waitFor } from "../wait-for.ts";

/** A TCP relay to the API server that can be switched off, as a network partition would. */
async function tcpSwitch(target: URL): Promise<{ url: string; up: boolean; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { up: true };
  const server: Server = createServer((client) => {
    if (!state.up) return void client.destroy();
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    get up() {
      return state.up;
    },
    set up(value: boolean) {
      state.up = value;
      if (!value) for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("webhook + repository controller + test API server + fake GitHub", { timeout: 90_000 }, () => {
  let cluster: TestCluster;
  let gh: FakeGitHub;
  let network: Awaited<ReturnType<typeof tcpSwitch>>;
  let webhook: RunningWebhook;
  let controller: RepositoryController;
  let dir: string;
  let custom: CustomObjectsApi;

  const builds = async () =>
    (
      (await custom.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: "default",
        plural: "builds",
      })) as { items: Build[] }
    ).items;

  before(async () => {
    cluster = await startTestCluster();
    custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    gh = await startFakeGitHub();
    gh.addToken("good", { login: "kiln-bot" });
    gh.addRepository("acme", "api");
    network = await tcpSwitch(new URL(cluster.url));
    dir = await mkdtemp(join(tmpdir(), "kiln-webhook-it-"));
    const kubeconfig = join(dir, "kubeconfig");
    await writeKubeconfig(kubeconfig, {
      server: network.url,
      caPem: cluster.server.caPem,
      token: cluster.server.adminToken,
    });
    webhook = await startWebhook(
      webhookConfig.parse({ kubeconfig, host: "127.0.0.1", port: 0, logLevel: "silent" }),
    );
    await cluster.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: "default",
      body: { metadata: { name: "gh" }, stringData: { token: "good", webhook: "s3cret" } },
    });
    await createRepository(cluster.kubeConfig, "api", {
      github: { owner: "acme", name: "api", apiURL: gh.url },
      tokenSecretRef: { name: "gh", key: "token" },
      webhook: { secretRef: { name: "gh", key: "webhook" } },
      branches: ["main"],
    });
    const controllerConfig = new KubeConfig();
    controllerConfig.loadFromFile(kubeconfig);
    controller = createRepositoryController({
      kubeConfig: controllerConfig,
      log: silentLogger(),
      webhookURL: `${webhook.url}/hooks/github`,
      intervalMs: 300,
      graceMs: 500,
      github: { retries: 0, writeSpacingMs: 1, retryAfterBaseValue: 1 },
    });
    await controller.start();
    // GitHub pings a new hook; a 200 means the webhook server found the Repository and verified the secret.
    await waitFor("the hook's ping to succeed", () =>
      gh.deliveries("acme", "api").some((d) => d.event === "ping" && d.status_code === 200),
    );
    assert.equal(gh.hooks("acme", "api").length, 1);
  });

  after(() =>
    stopAll(
      () => controller?.stop(),
      () => webhook?.close(),
      () => network?.close(),
      () => gh?.stop(),
      () => cluster?.stop(),
      () => dir && rm(dir, { recursive: true, force: true }),
    ),
  );

  /** A push while the API server is unreachable: the webhook answers 503 (GitHub marks it failed). */
  const pushDuringOutage = async (message: string) => {
    network.up = false;
    try {
      const { commit, deliveries } = await gh.push("acme", "api", "main", { message });
      assert.equal(deliveries[0]!.status_code, 503);
      return { commit, delivery: deliveries[0]! };
    } finally {
      network.up = true;
    }
  };
  const buildOf = (what: string, sha: string) =>
    waitFor(what, async () => (await builds()).find((b) => b.spec.revision.sha === sha));

  test("a push makes one Build; the same delivery again makes no second", async () => {
    const { commit, deliveries } = await gh.push("acme", "api", "main", { message: "First" });
    assert.equal(deliveries[0]!.status_code, 201);
    const [build] = (await builds()).filter((b) => b.spec.revision.sha === commit.sha);
    assert.ok(build);
    assert.equal(build.metadata.labels?.["kiln.dev/commit"], commit.sha.slice(0, 7));
    assert.equal(build.spec.trigger.deliveryID, deliveries[0]!.guid);
    // The very same request again (GitHub sometimes delivers twice; redeliveries keep the GUID).
    const again = await deliver(`${webhook.url}/hooks/github`, {
      event: "push",
      payload: deliveries[0]!.request.payload,
      secret: "s3cret",
      id: deliveries[0]!.guid,
    });
    assert.equal(again.status, 200);
    assert.match(again.body.message, /already exists/);
    assert.equal((await builds()).filter((b) => b.spec.revision.sha === commit.sha).length, 1);
  });

  test("a forged delivery (wrong secret) is 401 and creates nothing", async () => {
    const before = (await builds()).length;
    const { commit } = await gh.push("acme", "api", "main", { deliver: false });
    const payload = gh.pushPayload(
      gh.repository("acme", "api"),
      "main",
      "0".repeat(40),
      gh.repository("acme", "api").commits.get(commit.sha)!,
    );
    const forged = await deliver(`${webhook.url}/hooks/github`, {
      event: "push",
      payload,
      secret: "guessed",
    });
    assert.equal(forged.status, 401);
    assert.equal((await builds()).length, before);
    // Leave no uncovered head behind for the tests below: build it through a proper delivery.
    assert.equal(
      (await deliver(`${webhook.url}/hooks/github`, { event: "push", payload, secret: "s3cret" })).status,
      201,
    );
  });

  test("API server unreachable: 503; once back, the controller's redelivery makes the Build", async () => {
    const { commit, delivery } = await pushDuringOutage("During the outage");
    const build = await buildOf("the redelivered Build", commit.sha);
    assert.equal(build.spec.trigger.event, "push");
    assert.equal(build.spec.trigger.deliveryID, delivery.guid);
    await gh.settled();
    assert.ok(
      gh
        .deliveries("acme", "api")
        .some((d) => d.guid === delivery.guid && d.redelivery && d.status_code === 201),
    );
  });

  test("API server unreachable and redelivery impossible: catch-up builds the missed head, once", async () => {
    gh.failNext({ method: "POST", path: /\/attempts$/, status: 502, times: Number.POSITIVE_INFINITY });
    const { commit } = await pushDuringOutage("Lost push");
    const build = await buildOf("the catch-up Build", commit.sha);
    gh.clearFailures();
    assert.equal(build.spec.trigger.event, "catch-up");
    assert.equal(build.spec.revision.message, "Lost push");
    await new Promise((resolve) => setTimeout(resolve, 1000)); // a few more controller passes
    assert.equal((await builds()).filter((b) => b.spec.revision.sha === commit.sha).length, 1);
  });
});
