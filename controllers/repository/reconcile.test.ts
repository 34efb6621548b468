// The reconciler against the fake GitHub (real HTTP, OpenAPI-checked) and an in-memory Kubernetes.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { FINALIZERS } from "../../api/group.ts";
import { UnavailableError } from "../../lib/http-error.ts";
import { type FakeGitHub, startFakeGitHub } from "../../stand-ins/github/index.ts";
import { MemoryKube } from "../../test/fakes/memory-kube.ts";
import { makeRepository, memoryRepositories, memorySecrets, serveApp } from "../../test/fixtures/webhook.ts";
import type { BuildSink } from "../../webhook/deps.ts";
import { createReconciler } from "./reconcile.ts";

const KEY = { namespace: "default", name: "api" };

describe("repository reconcile", () => {
  let gh: FakeGitHub;
  let kube: MemoryKube;
  let hookURL: string;
  let app: Awaited<ReturnType<typeof serveApp>>;
  let apiDown = false;

  beforeEach(async () => {
    gh = await startFakeGitHub();
    gh.addToken("good", { login: "kiln-bot" });
    gh.addToken("reader", { login: "reader", permission: "read" });
    gh.addRepository("acme", "api");
    kube = new MemoryKube();
    kube.secrets.set("default/gh", { token: "good", webhook: "s3cret", reader: "reader", bad: "revoked" });
    // The real webhook app, creating Builds in the same in-memory cluster (or failing, when apiDown).
    const sink: BuildSink = {
      create: async (build) => {
        if (apiDown) throw new UnavailableError("the Kubernetes API is unavailable; try again");
        return kube.repositoryDeps().createBuild(build);
      },
    };
    const repository = () =>
      makeRepository("api", "acme", "api", { webhook: { secretRef: { name: "gh", key: "webhook" } } });
    app = await serveApp({
      repositories: memoryRepositories([repository()]),
      secrets: memorySecrets({ api: ["s3cret"] }),
      builds: sink,
    });
    hookURL = app.url;
  });
  afterEach(async () => {
    apiDown = false;
    await app.close();
    await gh.stop();
  });

  function put(tokenKey = "token", spec: Record<string, unknown> = {}) {
    return kube.put(
      makeRepository("api", "acme", "api", {
        github: { owner: "acme", name: "api", apiURL: gh.url },
        tokenSecretRef: { name: "gh", key: tokenKey },
        webhook: {
          url: hookURL,
          secretRef: { name: "gh", key: "webhook" },
          events: ["push", "pull_request"],
        },
        ...spec,
      }),
      { edit: true },
    );
  }

  test("registers the webhook once, with a finalizer, status and observedGeneration; again is a no-op", async () => {
    put();
    const reconcile = createReconciler(kube.repositoryDeps());
    assert.deepEqual(await reconcile(KEY), { requeueAfter: 60_000 });
    await reconcile(KEY);
    await reconcile(KEY);
    const hooks = gh.hooks("acme", "api");
    assert.equal(hooks.length, 1);
    assert.equal(hooks[0]!.config.url, `${hookURL}?repository=default%2Fapi`);
    assert.equal(hooks[0]!.config.secret, "s3cret");
    assert.deepEqual(hooks[0]!.events, ["pull_request", "push"]);
    assert.equal(gh.requestsTo("POST", "/repos/{owner}/{repo}/hooks").length, 1);
    assert.equal(gh.requestsTo("PATCH", "/repos/{owner}/{repo}/hooks/{hook_id}").length, 0);
    const repository = kube.repository("api", "default");
    assert.deepEqual(repository.metadata.finalizers, [FINALIZERS.webhook]);
    assert.equal(repository.status?.hookID, hooks[0]!.id);
    assert.equal(repository.status?.observedGeneration, repository.metadata.generation);
    const ready = repository.status?.conditions?.find((c) => c.type === "WebhookReady");
    assert.equal(ready?.status, "True");
    assert.equal(ready?.reason, "Registered");
    await gh.settled();
    // GitHub's ping on creation reached the webhook server and was verified.
    assert.equal(gh.deliveries("acme", "api")[0]?.status_code, 200);
  });

  test("a restart (fresh reconciler) finds the existing hook by URL: never two", async () => {
    put();
    await createReconciler(kube.repositoryDeps())(KEY);
    const repository = kube.repository("api", "default");
    delete repository.status; // even without the recorded id
    await createReconciler(kube.repositoryDeps())(KEY);
    assert.equal(gh.hooks("acme", "api").length, 1);
  });

  test("status writes carry only this controller's fields: the announcer's status.telegram survives", async () => {
    put();
    const patches: Record<string, unknown>[] = [];
    const deps = kube.repositoryDeps();
    const reconcile = createReconciler({
      ...deps,
      patchStatus: (namespace, name, resourceVersion, status) => {
        patches.push(status);
        return deps.patchStatus(namespace, name, resourceVersion, status);
      },
    });
    await reconcile(KEY);
    const blockedChats = [
      { chat: "-100", reason: "Forbidden", generation: 1, since: "2026-11-22T00:00:00Z" },
    ];
    const stored = kube.repository("api", "default");
    stored.status = { ...stored.status, telegram: { blockedChats } };
    stored.metadata.generation = 2; // a spec edit: observedGeneration must follow
    kube.put(stored);
    await reconcile(KEY);
    assert.equal(patches.length, 2);
    for (const patch of patches) assert.equal("telegram" in patch, false);
    const repository = kube.repository("api", "default");
    assert.equal(repository.status?.observedGeneration, 2);
    assert.deepEqual(repository.status?.telegram, { blockedChats });
  });

  test("a spec change (events) or a new secret updates the hook in place", async () => {
    put();
    const reconcile = createReconciler(kube.repositoryDeps());
    await reconcile(KEY);
    const id = gh.hooks("acme", "api")[0]!.id;
    const current = kube.repository("api", "default");
    current.spec.webhook!.events = ["push"];
    kube.put(current, { edit: true });
    await reconcile(KEY);
    assert.deepEqual(gh.hooks("acme", "api")[0]!.events, ["push"]);
    kube.secrets.get("default/gh")!.webhook = "rotated";
    await reconcile(KEY);
    const hooks = gh.hooks("acme", "api");
    assert.equal(hooks.length, 1);
    assert.equal(hooks[0]!.id, id);
    assert.equal(hooks[0]!.config.secret, "rotated");
    assert.equal(
      kube.repository("api", "default").status?.observedGeneration,
      (current.metadata.generation ?? 0) + 1,
    );
  });

  test("a bad token: WebhookReady=False, reason Unauthorized; a read-only token: Forbidden", async () => {
    put("bad");
    const reconcile = createReconciler(kube.repositoryDeps());
    await reconcile(KEY);
    let ready = kube.repository("api", "default").status?.conditions?.find((c) => c.type === "WebhookReady");
    assert.equal(ready?.status, "False");
    assert.equal(ready?.reason, "Unauthorized");
    assert.match(ready?.message ?? "", /401/);
    const repository = kube.repository("api", "default");
    repository.spec.tokenSecretRef = { name: "gh", key: "reader" };
    kube.put(repository, { edit: true });
    await reconcile(KEY);
    ready = kube.repository("api", "default").status?.conditions?.find((c) => c.type === "WebhookReady");
    assert.equal(ready?.reason, "Forbidden");
    assert.equal(gh.hooks("acme", "api").length, 0);
  });

  test("GitHub's rate limits are waited out (secondary 403 and 429 with retry-after), then the hook is registered", async () => {
    put();
    gh.failNext({ method: "GET", path: /\/hooks$/, status: 403, retryAfter: 1 });
    gh.failNext({ method: "POST", path: /\/hooks$/, status: 429, retryAfter: 1 });
    await createReconciler(kube.repositoryDeps())(KEY);
    assert.equal(gh.hooks("acme", "api").length, 1);
    const statuses = gh.requests.filter((r) => /\/hooks$/.test(r.path)).map((r) => `${r.method} ${r.status}`);
    assert.deepEqual(statuses, ["GET 403", "GET 200", "POST 429", "POST 201"]);
    assert.equal(kube.repository("api", "default").status?.conditions?.[0]?.reason, "Registered");
  });

  test("a missing token Secret key says so", async () => {
    put("nope");
    await createReconciler(kube.repositoryDeps())(KEY);
    const ready = kube
      .repository("api", "default")
      .status?.conditions?.find((c) => c.type === "WebhookReady");
    assert.equal(ready?.reason, "TokenMissing");
  });

  test("a Repository with neither token nor webhook is NotConfigured, and GitHub is not called", async () => {
    const repository = makeRepository("api", "acme", "api", {
      github: { owner: "acme", name: "api", apiURL: gh.url },
    });
    delete repository.spec.webhook;
    kube.put(repository, { edit: true });
    await createReconciler(kube.repositoryDeps())(KEY);
    const ready = kube
      .repository("api", "default")
      .status?.conditions?.find((c) => c.type === "WebhookReady");
    assert.equal(ready?.reason, "NotConfigured");
    assert.match(ready?.message ?? "", /created by hand/);
    assert.equal(gh.requests.length, 0);
  });

  test("GitHub 5xx: the condition says so and reconcile throws (retried with backoff)", async () => {
    put();
    gh.failNext({ method: "GET", path: /\/hooks$/, status: 502 });
    await assert.rejects(createReconciler(kube.repositoryDeps())(KEY));
    const ready = kube
      .repository("api", "default")
      .status?.conditions?.find((c) => c.type === "WebhookReady");
    assert.equal(ready?.status, "Unknown");
    assert.equal(ready?.reason, "GitHubError");
  });

  test("deleting the Repository removes the hook exactly once, even when the first attempt fails", async () => {
    put();
    const reconcile = createReconciler(kube.repositoryDeps());
    await reconcile(KEY);
    assert.equal(gh.hooks("acme", "api").length, 1);
    kube.delete("Repository", "default", "api");
    gh.failNext({ method: "DELETE", path: "/hooks/", status: 503 });
    await assert.rejects(reconcile(KEY));
    assert.equal(gh.hooks("acme", "api").length, 1);
    assert.ok(kube.has("Repository", "default", "api"), "the finalizer holds the Repository");
    await reconcile(KEY);
    assert.equal(gh.hooks("acme", "api").length, 0);
    assert.ok(!kube.has("Repository", "default", "api"), "finalizer removed, Repository gone");
    await reconcile(KEY);
    const deletes = gh.requestsTo("DELETE", "/repos/{owner}/{repo}/hooks/{hook_id}");
    assert.deepEqual(
      deletes.map((r) => r.status),
      [503, 204],
    );
  });

  test("the hook is removed even when the token Secret went with the Repository", async () => {
    put();
    const reconcile = createReconciler(kube.repositoryDeps());
    await reconcile(KEY);
    kube.secrets.delete("default/gh");
    kube.delete("Repository", "default", "api");
    await reconcile(KEY);
    assert.equal(gh.hooks("acme", "api").length, 0);
    assert.ok(!kube.has("Repository", "default", "api"));
  });

  test("no push lost: a delivery failed with 503 is redelivered once, and makes its Build", async () => {
    put();
    const reconcile = createReconciler(kube.repositoryDeps());
    await reconcile(KEY);
    await gh.settled();
    apiDown = true;
    const { deliveries, commit } = await gh.push("acme", "api", "main", { message: "Fix" });
    assert.equal(deliveries[0]!.status_code, 503);
    assert.equal(kube.list("Build").length, 0);
    apiDown = false;
    // Catch-up would also find the head; a long grace keeps this test about redelivery.
    const redeliverOnly = createReconciler(kube.repositoryDeps({ graceMs: 3_600_000 }));
    await redeliverOnly(KEY);
    await gh.settled();
    const builds = kube.list("Build");
    assert.equal(builds.length, 1);
    assert.equal(builds[0]!.spec.revision.sha, commit.sha);
    assert.equal(builds[0]!.spec.trigger.deliveryID, deliveries[0]!.guid);
    await redeliverOnly(KEY);
    await redeliverOnly(KEY);
    await gh.settled();
    assert.equal(
      gh.requestsTo("POST", "/repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts").length,
      1,
    );
    assert.equal(kube.list("Build").length, 1);
  });

  test("no push lost: a push never delivered gets a catch-up Build, once", async () => {
    put();
    const reconcile = createReconciler(kube.repositoryDeps());
    await reconcile(KEY);
    const { commit } = await gh.push("acme", "api", "main", { message: "Silent push", deliver: false });
    await gh.push("acme", "api", "feature/x", { deliver: false });
    const onlyMain = kube.repository("api", "default");
    onlyMain.spec.branches = ["main"];
    kube.put(onlyMain, { edit: true });
    await reconcile(KEY);
    await reconcile(KEY);
    const builds = kube.list("Build");
    assert.equal(builds.length, 1);
    assert.equal(builds[0]!.spec.trigger.event, "catch-up");
    assert.equal(builds[0]!.spec.revision.sha, commit.sha);
    assert.equal(builds[0]!.spec.revision.message, "Silent push");
    // A second controller (another replica, a restart) names the same Build: AlreadyExists, no duplicate.
    await createReconciler(kube.repositoryDeps())(KEY);
    assert.equal(kube.list("Build").length, 1);
  });
});
