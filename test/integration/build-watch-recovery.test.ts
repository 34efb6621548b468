// The supervised informer against the test API server through a TCP proxy that the test can cut, stall
// or let through: after a connection reset, a 410 (history gone while it was away) and a silent stall, the
// cache converges to the server's state — the failures client-node's own ListWatch does not survive.
import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";
import { API_VERSION } from "../../api/group.ts";
import { KubeClient, resourcePath } from "../../lib/kube.ts";
import type { Informer } from "../../lib/runtime/informer.ts";
import { resourceInformer } from "../../lib/runtime/kube-source.ts";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { waitFor } from "./build-harness.ts";

type Mode = "open" | "down" | "stalled";

/** A TCP proxy to the API server: "down" resets every connection, "stalled" silently drops their bytes. */
class FaultyProxy {
  mode: Mode = "open";
  readonly #pairs = new Set<{ client: Socket; upstream: Socket; stalled: boolean }>();
  #server: Server | undefined;

  async start(upstreamPort: number): Promise<number> {
    this.#server = createServer((client) => {
      if (this.mode === "down") return void client.destroy();
      const upstream = connect(upstreamPort, "127.0.0.1");
      const pair = { client, upstream, stalled: false };
      this.#pairs.add(pair);
      client.on("data", (d) => pair.stalled || upstream.write(d));
      upstream.on("data", (d) => pair.stalled || client.write(d));
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.#pairs.delete(pair);
      };
      client.on("close", end).on("error", end);
      upstream.on("close", end).on("error", end);
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    return (this.#server.address() as { port: number }).port;
  }

  /** Resets every open connection and refuses new ones. */
  cut(): void {
    this.mode = "down";
    for (const p of this.#pairs) p.client.resetAndDestroy();
  }

  /** Existing connections stay open but carry nothing more, like a dead NAT entry; new ones work. */
  stall(): void {
    for (const p of this.#pairs) p.stalled = true;
  }

  restore(): void {
    this.mode = "open";
  }

  async stop(): Promise<void> {
    for (const p of this.#pairs) p.client.destroy();
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}

let cluster: TestCluster;
let direct: KubeClient;
let proxied: KubeClient;
let proxy: FaultyProxy;
let informer: Informer<Build>;

const buildBody = (name: string) => ({
  apiVersion: API_VERSION,
  kind: "Build",
  metadata: { name, namespace: "default" },
  spec: {
    repository: "app",
    revision: { sha: "a".repeat(40), ref: "refs/heads/main", branch: "main" },
    trigger: { event: "manual" },
  },
});
const builds = resourcePath(API_VERSION, "builds", "default");
const cached = () =>
  informer
    .list("default")
    .map((b) => b.metadata.name!)
    .sort()
    .join(",");

before(async () => {
  // A short watch history, so a client away for a few writes gets 410; frequent bookmarks.
  cluster = await startTestCluster({ server: { historySize: 3, bookmarkIntervalMs: 100 } });
  direct = new KubeClient(cluster.kubeConfig);
  proxy = new FaultyProxy();
  const port = await proxy.start(cluster.server.port);
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const c = kc.getCurrentCluster()!;
  kc.loadFromOptions({
    clusters: [{ ...c, server: `https://127.0.0.1:${port}` }],
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  proxied = new KubeClient(kc);
  informer = resourceInformer<Build>(proxied, API_VERSION, "builds", {
    namespaces: ["default"],
    stallMs: 800,
    minBackoffMs: 50,
    maxBackoffMs: 400,
    resyncMs: 0,
  });
  informer.start();
  await informer.synced();
});

after(async () => {
  informer.stop();
  proxied.close();
  direct.close();
  await proxy.stop();
  await cluster.stop();
});

describe("informer recovery against the test API server", { timeout: 60_000 }, () => {
  test("a connection reset: it watches again and misses nothing", async () => {
    await direct.create(builds, buildBody("a"));
    await waitFor("a cached", async () => (cached() === "a" ? true : undefined));
    proxy.cut();
    await direct.create(builds, buildBody("b"));
    await new Promise((r) => setTimeout(r, 300));
    proxy.restore();
    await waitFor("b cached after the reset", async () => (cached() === "a,b" ? true : undefined));
    assert.ok(informer.restarts >= 1);
    assert.equal(informer.relists, 0, "resumed from its resourceVersion, no relist needed");
  });

  test("away longer than the watch history (410): it relists, and a delete meanwhile is seen", async () => {
    const relists = informer.relists;
    proxy.cut();
    await direct.delete(`${builds}/a`);
    for (const n of ["c", "d", "e", "f", "g"]) await direct.create(builds, buildBody(n));
    proxy.restore();
    await waitFor("the cache equal to the server", async () =>
      cached() === "b,c,d,e,f,g" ? true : undefined,
    );
    assert.ok(informer.relists > relists, "the resumed watch got 410 and the informer relisted");
  });

  test("a watch that silently stops delivering is noticed and replaced", async () => {
    // A watch must be live (delivering) before it is stalled; right after the previous test's relist the
    // informer may still be connecting, and a connection made after stall() is not stalled.
    await direct.create(builds, buildBody("live"));
    await waitFor("a live watch", async () => (cached().includes("live") ? true : undefined), 10_000);
    const restarts = informer.restarts;
    proxy.stall();
    await direct.create(builds, buildBody("h"));
    await waitFor(
      "h cached through a new connection",
      async () => (cached().includes("h") ? true : undefined),
      10_000,
    );
    assert.ok(informer.restarts > restarts, "the stalled watch was restarted");
  });
});
