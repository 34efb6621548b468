// Conformance of the test API server through @kubernetes/client-node: CRUD of Kiln's resources, conflicts,
// pruning, validation, defaulting, status rules, generation, finalizers, garbage collection, watches
// (410, bookmarks), selectors, and the informer recovering from a 410.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
  Watch,
} from "@kubernetes/client-node";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { buildBody, podBody, rawRequest, repositoryBody, statusOf, waitFor } from "./helpers.ts";

const ns = "default";
const group = "kiln.dev";
const version = "v1alpha1";
const builds = { group, version, namespace: ns, plural: "builds" };

type Build = KubernetesObject & { spec: Record<string, unknown>; status?: Record<string, unknown> };

let cluster: TestCluster;
let custom: CustomObjectsApi;
let core: CoreV1Api;

before(async () => {
  cluster = await startTestCluster({ server: { historySize: 50, bookmarkIntervalMs: 100 } });
  custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  core = cluster.kubeConfig.makeApiClient(CoreV1Api);
});

after(async () => {
  await cluster.stop();
});

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

describe("objects", () => {
  test("CRUD of Repositories and Builds", async () => {
    const repo = (await custom.createNamespacedCustomObject({
      ...builds,
      plural: "repositories",
      body: repositoryBody("crud"),
    })) as Build;
    assert.ok(repo.metadata?.uid);
    assert.match(repo.metadata?.creationTimestamp as unknown as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const created = (await custom.createNamespacedCustomObject({
      ...builds,
      body: buildBody("crud-1"),
    })) as Build;
    assert.equal(created.metadata?.generation, 1);
    const read = (await custom.getNamespacedCustomObject({ ...builds, name: "crud-1" })) as Build;
    assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);
    const list = (await custom.listNamespacedCustomObject({ ...builds })) as { kind: string; items: Build[] };
    assert.equal(list.kind, "BuildList");
    assert.ok(list.items.some((b) => b.metadata?.name === "crud-1"));
    read.spec.pauseOnFailure = true;
    const replaced = (await custom.replaceNamespacedCustomObject({
      ...builds,
      name: "crud-1",
      body: read,
    })) as Build;
    assert.notEqual(replaced.metadata?.resourceVersion, read.metadata?.resourceVersion);
    assert.equal(replaced.metadata?.generation, 2);
    await custom.deleteNamespacedCustomObject({ ...builds, name: "crud-1" });
    const gone = await statusOf(custom.getNamespacedCustomObject({ ...builds, name: "crud-1" }));
    assert.equal(gone.code, 404);
    assert.equal(gone.body.reason, "NotFound");
    assert.equal(gone.body.message, 'builds.kiln.dev "crud-1" not found');
    assert.deepEqual(gone.body.details, { name: "crud-1", group: "kiln.dev", kind: "builds" });
  });

  test("the generic KubernetesObjectApi finds resources through discovery", async () => {
    const api = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
    const made = (await api.create({
      ...buildBody("generic"),
      metadata: { name: "generic", namespace: ns },
    })) as Build;
    assert.equal(made.spec.timeout, "1h");
    const read = (await api.read({
      apiVersion: "kiln.dev/v1alpha1",
      kind: "Build",
      metadata: { name: "generic", namespace: ns },
    })) as Build;
    assert.equal(read.metadata?.uid, made.metadata?.uid);
    const patched = (await api.patch<KubernetesObject>(
      {
        apiVersion: "kiln.dev/v1alpha1",
        kind: "Build",
        metadata: { name: "generic", namespace: ns, labels: { g: "1" } },
      },
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.MergePatch,
    )) as Build;
    assert.equal(patched.metadata?.labels?.g, "1");
    // Strategic merge patch (its default) is refused for custom resources, as kube refuses it.
    const smp = await statusOf(
      api.patch({
        apiVersion: "kiln.dev/v1alpha1",
        kind: "Build",
        metadata: { name: "generic", namespace: ns },
      }),
    );
    assert.equal(smp.code, 415);
    await api.delete({
      apiVersion: "kiln.dev/v1alpha1",
      kind: "Build",
      metadata: { name: "generic", namespace: ns },
    });
    const secret = await api.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "generic", namespace: ns },
      stringData: { a: "b" },
    } as KubernetesObject);
    assert.equal((secret as { data?: Record<string, string> }).data?.a, "Yg==");
  });

  test("a stale update gets 409 Conflict, a second create 409 AlreadyExists", async () => {
    const first = (await custom.createNamespacedCustomObject({
      ...builds,
      body: buildBody("stale"),
    })) as Build;
    await custom.patchNamespacedCustomObject(
      { ...builds, name: "stale", body: { metadata: { labels: { a: "b" } } } },
      mergePatch,
    );
    const stale = await statusOf(
      custom.replaceNamespacedCustomObject({ ...builds, name: "stale", body: first }),
    );
    assert.equal(stale.code, 409);
    assert.equal(stale.body.reason, "Conflict");
    assert.match(
      String(stale.body.message),
      /the object has been modified; please apply your changes to the latest version/,
    );
    const again = await statusOf(
      custom.createNamespacedCustomObject({ ...builds, body: buildBody("stale") }),
    );
    assert.equal(again.code, 409);
    assert.equal(again.body.reason, "AlreadyExists");
  });

  test("generateName gets a five-character suffix", async () => {
    const body = buildBody("");
    const made = (await custom.createNamespacedCustomObject({
      ...builds,
      body: { ...body, metadata: { generateName: "gen-" } },
    })) as Build;
    assert.match(made.metadata?.name ?? "", /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  test("an unknown field is pruned, with a Warning (and 400 under fieldValidation=Strict)", async () => {
    const body = buildBody("pruned", { spec: { color: "blue" } });
    const response = await custom.createNamespacedCustomObjectWithHttpInfo({ ...builds, body });
    assert.match(String(response.headers.warning), /299 - "unknown field \\"spec.color\\""/);
    const read = (await custom.getNamespacedCustomObject({ ...builds, name: "pruned" })) as Build;
    assert.equal("color" in read.spec, false);
    assert.equal(read.spec.repository, "api");
    const strict = await statusOf(
      custom.createNamespacedCustomObject({
        ...builds,
        body: buildBody("strict", { spec: { color: "blue" } }),
        fieldValidation: "Strict",
      }),
    );
    assert.equal(strict.code, 400);
    assert.equal(strict.body.reason, "BadRequest");
    assert.match(
      String(strict.body.message),
      /^Build in version "v1alpha1" cannot be handled as a Build: strict decoding error: unknown field "spec.color"$/,
    );
  });

  test("a schema violation gets 422 Invalid with causes", async () => {
    const bad = buildBody("invalid", { spec: { revision: { sha: "not-a-sha", ref: "refs/heads/main" } } });
    const result = await statusOf(custom.createNamespacedCustomObject({ ...builds, body: bad }));
    assert.equal(result.code, 422);
    assert.equal(result.body.reason, "Invalid");
    const details = result.body.details as {
      kind: string;
      group: string;
      causes: { field: string; reason: string }[];
    };
    assert.equal(details.kind, "Build");
    assert.equal(details.group, "kiln.dev");
    assert.ok(
      details.causes.some((c) => c.field === "spec.revision.sha" && c.reason === "FieldValueInvalid"),
    );
    assert.match(String(result.body.message), /^Build.kiln.dev "invalid" is invalid: spec.revision.sha/);
  });

  test("defaults from the schema are filled in", async () => {
    const made = (await custom.createNamespacedCustomObject({
      ...builds,
      body: buildBody("defaults"),
    })) as Build;
    assert.equal(made.spec.pauseOnFailure, false);
    assert.equal(made.spec.timeout, "1h");
    assert.equal(made.spec.cancel, false);
  });

  test("status subresource rules and generation", async () => {
    const made = (await custom.createNamespacedCustomObject({
      ...builds,
      body: { ...buildBody("status"), status: { phase: "Running" } },
    })) as Build;
    assert.equal(made.status, undefined, "create ignores status");
    const withStatus = (await custom.patchNamespacedCustomObjectStatus(
      { ...builds, name: "status", body: { status: { phase: "Running" }, spec: { cancel: true } } },
      mergePatch,
    )) as Build;
    assert.equal(withStatus.status?.phase, "Running");
    assert.equal(withStatus.spec.cancel, false, "/status ignores spec");
    assert.equal(withStatus.metadata?.generation, 1, "status changes do not bump generation");
    const labelled = (await custom.patchNamespacedCustomObject(
      { ...builds, name: "status", body: { metadata: { labels: { x: "y" } }, status: { phase: "Failed" } } },
      mergePatch,
    )) as Build;
    assert.equal(labelled.status?.phase, "Running", "the main endpoint ignores status");
    assert.equal(labelled.metadata?.generation, 1, "metadata changes do not bump generation");
    const specChanged = (await custom.patchNamespacedCustomObject(
      { ...builds, name: "status", body: { spec: { cancel: true } } },
      mergePatch,
    )) as Build;
    assert.equal(specChanged.metadata?.generation, 2);
    const same = (await custom.patchNamespacedCustomObject(
      { ...builds, name: "status", body: { spec: { cancel: true } } },
      mergePatch,
    )) as Build;
    assert.equal(
      same.metadata?.resourceVersion,
      specChanged.metadata?.resourceVersion,
      "a no-op patch writes nothing",
    );
  });

  test("JSON patch", async () => {
    await custom.createNamespacedCustomObject({ ...builds, body: buildBody("jsonpatch") });
    const patched = (await custom.patchNamespacedCustomObject(
      { ...builds, name: "jsonpatch", body: [{ op: "replace", path: "/spec/repository", value: "other" }] },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    )) as Build;
    assert.equal(patched.spec.repository, "other");
  });

  test("finalizers hold a deleted object until they are removed", async () => {
    await custom.createNamespacedCustomObject({
      ...builds,
      body: { ...buildBody("final"), metadata: { name: "final", finalizers: ["kiln.dev/test"] } },
    });
    const deleting = (await custom.deleteNamespacedCustomObject({ ...builds, name: "final" })) as Build;
    assert.ok(deleting.metadata?.deletionTimestamp, "delete answers with the object being deleted");
    const still = (await custom.getNamespacedCustomObject({ ...builds, name: "final" })) as Build;
    assert.ok(still.metadata?.deletionTimestamp);
    const refused = await statusOf(
      custom.patchNamespacedCustomObject(
        { ...builds, name: "final", body: { metadata: { finalizers: ["kiln.dev/test", "new"] } } },
        mergePatch,
      ),
    );
    assert.equal(refused.code, 422);
    await custom.patchNamespacedCustomObject(
      { ...builds, name: "final", body: { metadata: { finalizers: null } } },
      mergePatch,
    );
    assert.equal((await statusOf(custom.getNamespacedCustomObject({ ...builds, name: "final" }))).code, 404);
  });

  test("deleting an owner deletes its pods (background garbage collection)", async () => {
    const owner = (await custom.createNamespacedCustomObject({
      ...builds,
      body: buildBody("owner"),
    })) as Build;
    const ref = {
      apiVersion: "kiln.dev/v1alpha1",
      kind: "Build",
      name: "owner",
      uid: owner.metadata!.uid!,
      controller: true,
      blockOwnerDeletion: true,
    };
    await core.createNamespacedPod({
      namespace: ns,
      body: podBody("owned", { ownerReferences: [ref] }) as V1Pod,
    });
    await core.readNamespacedPod({ namespace: ns, name: "owned" });
    await custom.deleteNamespacedCustomObject({ ...builds, name: "owner" });
    await waitFor(
      "the owned pod to be collected",
      async () => (await statusOf(core.readNamespacedPod({ namespace: ns, name: "owned" }))).code === 404,
    );
  });

  test("foreground deletion waits for dependents", async () => {
    const owner = (await custom.createNamespacedCustomObject({ ...builds, body: buildBody("fg") })) as Build;
    const ref = {
      apiVersion: "kiln.dev/v1alpha1",
      kind: "Build",
      name: "fg",
      uid: owner.metadata!.uid!,
      blockOwnerDeletion: true,
    };
    await core.createNamespacedPod({
      namespace: ns,
      body: podBody("fg-pod", { ownerReferences: [ref], finalizers: ["kiln.dev/hold"] }) as V1Pod,
    });
    const deleting = (await custom.deleteNamespacedCustomObject({
      ...builds,
      name: "fg",
      propagationPolicy: "Foreground",
    })) as Build;
    assert.deepEqual(deleting.metadata?.finalizers, ["foregroundDeletion"]);
    const pod = await waitFor("the pod to be deleting", async () => {
      const p = await core.readNamespacedPod({ namespace: ns, name: "fg-pod" });
      return p.metadata?.deletionTimestamp ? p : undefined;
    });
    assert.ok(pod);
    assert.ok(await custom.getNamespacedCustomObject({ ...builds, name: "fg" }), "the owner waits");
    await core.patchNamespacedPod(
      { namespace: ns, name: "fg-pod", body: { metadata: { finalizers: null } } },
      mergePatch,
    );
    await waitFor(
      "the owner to go",
      async () => (await statusOf(custom.getNamespacedCustomObject({ ...builds, name: "fg" }))).code === 404,
    );
  });

  test("secrets: stringData becomes data; namespaces get a default ServiceAccount and kube-root-ca.crt", async () => {
    const secret = await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: "s" }, stringData: { token: "abc" } },
    });
    assert.equal(secret.data?.token, Buffer.from("abc").toString("base64"));
    assert.equal(secret.type, "Opaque");
    await core.createNamespace({ body: { metadata: { name: "fresh" } } });
    const sa = await core.readNamespacedServiceAccount({ namespace: "fresh", name: "default" });
    assert.equal(sa.metadata?.name, "default");
    const ca = await core.readNamespacedConfigMap({ namespace: "fresh", name: "kube-root-ca.crt" });
    assert.equal(ca.data?.["ca.crt"], cluster.server.caPem);
  });

  test("pods are validated against the Kubernetes schemas", async () => {
    const noImage = await statusOf(
      core.createNamespacedPod({
        namespace: ns,
        body: { metadata: { name: "bad" }, spec: { containers: [{ name: "a" } as never] } },
      }),
    );
    assert.equal(noImage.code, 422);
    const causes = (noImage.body.details as { causes: { field: string }[] }).causes;
    assert.ok(causes.some((c) => c.field === "spec.containers[0].image"));
    const dup = await statusOf(
      core.createNamespacedPod({
        namespace: ns,
        body: {
          metadata: { name: "dup" },
          spec: {
            containers: [
              { name: "a", image: "x" },
              { name: "a", image: "y" },
            ],
          },
        },
      }),
    );
    assert.equal(dup.code, 422);
    // client-node would coerce a wrong type; a raw request shows what the server does with it.
    const wrongType = await rawRequest(cluster.server, "POST", `/api/v1/namespaces/${ns}/pods`, {
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "t" },
        spec: { containers: [{ name: "a", image: "x", command: "true" }] },
      },
    });
    assert.equal(wrongType.status, 422);
    assert.ok(String(wrongType.json().message).includes("spec.containers[0].command"));
    const pod = await core.createNamespacedPod({ namespace: ns, body: podBody("immutable") as V1Pod });
    assert.equal(pod.status?.phase, "Pending");
    pod.spec!.restartPolicy = "Always";
    const immutable = await statusOf(
      core.replaceNamespacedPod({ namespace: ns, name: "immutable", body: pod }),
    );
    assert.equal(immutable.code, 422);
  });
});

describe("lists and watches", () => {
  test("label and field selectors", async () => {
    await custom.createNamespacedCustomObject({
      ...builds,
      body: buildBody("sel-a", { labels: { tier: "a", keep: "yes" } }),
    });
    await custom.createNamespacedCustomObject({
      ...builds,
      body: buildBody("sel-b", { labels: { tier: "b" } }),
    });
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (
        (await custom.listNamespacedCustomObject({ ...builds, labelSelector, fieldSelector })) as {
          items: Build[];
        }
      ).items
        .map((b) => b.metadata?.name)
        .filter((n) => n?.startsWith("sel-"));
    assert.deepEqual(await names("tier=a"), ["sel-a"]);
    assert.deepEqual(await names("tier in (a,b)"), ["sel-a", "sel-b"]);
    assert.deepEqual(await names("tier notin (a)"), ["sel-b"]);
    assert.deepEqual(await names("tier,!keep"), ["sel-b"]);
    assert.deepEqual(await names("tier!=b"), ["sel-a"]);
    assert.deepEqual(await names(undefined, "metadata.name=sel-b"), ["sel-b"]);
    const bad = await statusOf(
      custom.listNamespacedCustomObject({ ...builds, fieldSelector: "spec.repository=api" }),
    );
    assert.equal(bad.code, 400);
    await core.createNamespacedPod({ namespace: ns, body: podBody("phase") as V1Pod });
    const pods = await core.listNamespacedPod({
      namespace: ns,
      fieldSelector: "status.phase=Pending,metadata.name=phase",
    });
    assert.deepEqual(
      pods.items.map((p) => p.metadata?.name),
      ["phase"],
    );
  });

  test("limit and continue", async () => {
    for (let i = 0; i < 5; i++)
      await custom.createNamespacedCustomObject({
        ...builds,
        body: buildBody(`page-${i}`, { labels: { page: "yes" } }),
      });
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = (await custom.listNamespacedCustomObject({
        ...builds,
        labelSelector: "page=yes",
        limit: 2,
        _continue: token,
      })) as {
        items: Build[];
        metadata: { continue?: string };
      };
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((b) => b.metadata!.name!));
      token = page.metadata.continue || undefined;
    } while (token);
    assert.deepEqual(seen, ["page-0", "page-1", "page-2", "page-3", "page-4"]);
  });

  test("a watch from a too-old resourceVersion gets 410 Gone", async () => {
    const first = (await custom.createNamespacedCustomObject({
      ...builds,
      body: buildBody("churn"),
    })) as Build;
    const oldRV = first.metadata!.resourceVersion!;
    for (let i = 0; i < 110; i++) {
      await custom.patchNamespacedCustomObject(
        { ...builds, name: "churn", body: { metadata: { labels: { n: String(i) } } } },
        mergePatch,
      );
    }
    const events: { type: string; object: { code?: number; reason?: string } }[] = [];
    const done = new Promise<void>((resolve) => {
      void new Watch(cluster.kubeConfig).watch(
        `/apis/kiln.dev/v1alpha1/namespaces/${ns}/builds`,
        { resourceVersion: oldRV },
        (type, object) => events.push({ type, object }),
        () => resolve(),
      );
    });
    await done;
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, "ERROR");
    assert.equal(events[0]!.object.code, 410);
    assert.equal(events[0]!.object.reason, "Expired");
    const exact = await statusOf(
      custom.listNamespacedCustomObject({ ...builds, resourceVersion: oldRV, resourceVersionMatch: "Exact" }),
    );
    assert.equal(exact.code, 410);
  });

  test("watch events and bookmarks", async () => {
    const list = (await custom.listNamespacedCustomObject({ ...builds })) as {
      metadata: { resourceVersion: string };
    };
    const events: { type: string; name?: string; rv?: string }[] = [];
    const controller = await new Watch(cluster.kubeConfig).watch(
      `/apis/kiln.dev/v1alpha1/namespaces/${ns}/builds`,
      { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true, labelSelector: "w=yes" },
      (type, object: KubernetesObject) =>
        events.push({ type, name: object.metadata?.name, rv: object.metadata?.resourceVersion }),
      () => {},
    );
    try {
      await custom.createNamespacedCustomObject({
        ...builds,
        body: buildBody("watched", { labels: { w: "yes" } }),
      });
      await custom.patchNamespacedCustomObject(
        { ...builds, name: "watched", body: { spec: { cancel: true } } },
        mergePatch,
      );
      await custom.patchNamespacedCustomObject(
        { ...builds, name: "watched", body: { metadata: { labels: { w: "no" } } } },
        mergePatch,
      );
      await waitFor("ADDED, MODIFIED, DELETED (left the selection) and a BOOKMARK", () => {
        const types = events.filter((e) => e.type !== "BOOKMARK").map((e) => `${e.type}:${e.name}`);
        return (
          types.join(",") === "ADDED:watched,MODIFIED:watched,DELETED:watched" &&
          events.some((e) => e.type === "BOOKMARK")
        );
      });
      const bookmark = events.find((e) => e.type === "BOOKMARK")!;
      assert.ok(Number(bookmark.rv) >= Number(list.metadata.resourceVersion));
    } finally {
      controller.abort();
    }
  });

  test("the informer sees add, update and delete, also across a 410", async () => {
    const path = `/apis/kiln.dev/v1alpha1/namespaces/${ns}/builds`;
    const informer = makeInformer<Build>(
      cluster.kubeConfig,
      path,
      () => custom.listNamespacedCustomObject({ ...builds, labelSelector: "inf=yes" }) as never,
      "inf=yes",
    );
    const seen: string[] = [];
    informer.on("add", (o) => seen.push(`add:${o.metadata?.name}`));
    informer.on("update", (o) => seen.push(`update:${o.metadata?.name}`));
    informer.on("delete", (o) => seen.push(`delete:${o.metadata?.name}`));
    const errors: unknown[] = [];
    informer.on("error", (e) => errors.push(e));
    await informer.start();
    try {
      await custom.createNamespacedCustomObject({
        ...builds,
        body: buildBody("inf-1", { labels: { inf: "yes" } }),
      });
      await waitFor("add", () => seen.includes("add:inf-1"));
      await custom.patchNamespacedCustomObject(
        { ...builds, name: "inf-1", body: { spec: { cancel: true } } },
        mergePatch,
      );
      await waitFor("update", () => seen.includes("update:inf-1"));

      // Cut the informer's watch and, before it reconnects, write more than the server keeps:
      // its resourceVersion is now too old, it gets 410 and lists again.
      const { server } = cluster;
      const t = server.registry.find(group, version, "builds")!;
      const { objects } = server;
      for (const w of [...server.store.collection(t.collection).watchers]) w.close?.();
      objects.create(t, ns, buildBody("inf-2", { labels: { inf: "yes" } }));
      objects.delete(t, ns, "inf-1");
      for (let i = 0; i < 120; i++) {
        const current = objects.get(t, ns, "churn");
        objects.update(t, ns, "churn", {
          ...current,
          metadata: { ...current.metadata, labels: { m: String(i) } },
        });
      }
      await waitFor(
        "add and delete seen after the relist",
        () => seen.includes("add:inf-2") && seen.includes("delete:inf-1"),
        8000,
      );
      assert.deepEqual(errors, []);
      await custom.deleteNamespacedCustomObject({ ...builds, name: "inf-2" });
      await waitFor("delete after the relist", () => seen.includes("delete:inf-2"));
    } finally {
      await informer.stop();
    }
  });
});
