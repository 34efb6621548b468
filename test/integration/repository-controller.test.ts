// The repository controller against the test API server and the fake GitHub: conditions a user reads with
// kubectl, and the finalizer that removes the webhook when the Repository is deleted.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { FINALIZERS, GROUP, VERSION } from "../../api/group.ts";
import type { Repository } from "../../api/repository.ts";
import {
  createRepositoryController,
  type RepositoryController,
} from "../../controllers/repository/controller.ts";
import { createLogger, silentLogger } from "../../lib/log.ts";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { type FakeGitHub, startFakeGitHub } from "../../stand-ins/github/index.ts";
import { waitFor } from "../wait-for.ts";

const HOOK_URL = "http://127.0.0.1:9/hooks/github"; // nothing listens: deliveries fail, which is fine here

describe("repository controller on the test API server", { timeout: 60_000 }, () => {
  let cluster: TestCluster;
  let gh: FakeGitHub;
  let controller: RepositoryController;
  let custom: CustomObjectsApi;
  const repositories = { group: GROUP, version: VERSION, namespace: "default", plural: "repositories" };

  const get = async (name: string) => {
    try {
      return (await custom.getNamespacedCustomObject({ ...repositories, name })) as Repository;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  };
  const condition = async (name: string) =>
    (await get(name))?.status?.conditions?.find((c) => c.type === "WebhookReady");
  const create = (name: string, repo: string, tokenKey: string) =>
    custom.createNamespacedCustomObject({
      ...repositories,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "Repository",
        metadata: { name },
        spec: {
          github: { owner: "acme", name: repo, apiURL: gh.url },
          tokenSecretRef: { name: "gh", key: tokenKey },
          webhook: { url: HOOK_URL, secretRef: { name: "gh", key: "webhook" } },
        },
      },
    });

  before(async () => {
    cluster = await startTestCluster();
    custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    gh = await startFakeGitHub();
    gh.addToken("good", { login: "kiln-bot" });
    gh.addRepository("acme", "api");
    gh.addRepository("acme", "web");
    await cluster.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: "default",
      body: {
        metadata: { name: "gh" },
        stringData: { token: "good", revoked: "no-longer-valid", webhook: "s3cret" },
      },
    });
    controller = createRepositoryController({
      kubeConfig: cluster.kubeConfig,
      log: process.env.KILN_TEST_LOG
        ? createLogger("test", { level: "debug", destination: process.stderr })
        : silentLogger(),
      intervalMs: 60_000,
      github: { retries: 0, writeSpacingMs: 1, retryAfterBaseValue: 1 },
      rateLimit: { baseDelayMs: 50, maxDelayMs: 500 },
    });
    await controller.start();
  });

  after(async () => {
    await controller?.stop();
    await gh?.stop();
    await cluster?.stop();
  });

  test("a bad token: WebhookReady=False with reason Unauthorized, for kubectl to show", async () => {
    await create("web", "web", "revoked");
    const ready = await waitFor("the WebhookReady condition", () => condition("web"));
    assert.equal(ready.status, "False");
    assert.equal(ready.reason, "Unauthorized");
    assert.match(ready.message ?? "", /401/);
    assert.equal(gh.hooks("acme", "web").length, 0);
    const repository = await get("web");
    assert.equal(repository?.status?.observedGeneration, repository?.metadata.generation);
  });

  test("registered once; a spec change updates it; deleting removes it exactly once though the first DELETE fails", async () => {
    await create("api", "api", "token");
    const ready = await waitFor("WebhookReady=True", async () => {
      const c = await condition("api");
      return c?.status === "True" ? c : undefined;
    });
    assert.equal(ready.reason, "Registered");
    const repository = (await get("api"))!;
    assert.deepEqual(repository.metadata.finalizers, [FINALIZERS.webhook]);
    const [hook] = gh.hooks("acme", "api");
    assert.equal(repository.status?.hookID, hook!.id);

    await custom.patchNamespacedCustomObject(
      {
        ...repositories,
        name: "api",
        body: {
          spec: { webhook: { url: HOOK_URL, secretRef: { name: "gh", key: "webhook" }, events: ["push"] } },
        },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await waitFor(
      "the hook's events to follow the spec",
      async () => gh.hooks("acme", "api")[0]?.events.join() === "push",
    );
    await waitFor("observedGeneration to catch up", async () => {
      const r = await get("api");
      return r?.status?.observedGeneration === r?.metadata.generation;
    });
    assert.equal(gh.hooks("acme", "api").length, 1);

    gh.failNext({ method: "DELETE", path: "/hooks/", status: 503 });
    await custom.deleteNamespacedCustomObject({ ...repositories, name: "api" });
    await waitFor("the Repository to be gone", async () => (await get("api")) === undefined);
    assert.equal(gh.hooks("acme", "api").length, 0);
    const deletes = gh.requestsTo("DELETE", "/repos/{owner}/{repo}/hooks/{hook_id}").map((r) => r.status);
    assert.deepEqual(deletes, [503, 204]);
  });
});
