// Conformance of the test API server at the HTTP level, where clients hide the wire format: Status
// bodies, auth, discovery (legacy and aggregated), Table and PartialObjectMetadata output, patch types,
// dryRun, pod graceful deletion and binding, TokenRequest, Events in both APIs, namespace deletion,
// watch options, CRDs of both scopes coming and going.
import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { buildBody, podBody, type RawResponse, rawRequest, waitFor } from "./helpers.ts";

let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster({ server: { bookmarkIntervalMs: 100 } });
});

after(async () => {
  await cluster.stop();
});

const req = (method: string, path: string, options: Parameters<typeof rawRequest>[3] = {}) =>
  rawRequest(cluster.server, method, path, options);
const BUILDS = "/apis/kiln.dev/v1alpha1/namespaces/default/builds";
const PODS = "/api/v1/namespaces/default/pods";

function expectStatus(r: RawResponse, code: number, reason: string): Record<string, unknown> {
  assert.equal(r.status, code, r.text);
  const body = r.json();
  assert.equal(body.kind, "Status");
  assert.equal(body.apiVersion, "v1");
  assert.equal(body.status, "Failure");
  assert.equal(body.reason, reason);
  assert.equal(body.code, code);
  return body;
}

/** Reads a watch stream until `enough` says so (or the stream ends); returns the events. */
async function watchEvents(
  path: string,
  enough: (events: { type: string; object: Record<string, unknown> }[]) => boolean,
  afterConnect?: () => Promise<void>,
): Promise<{ type: string; object: Record<string, unknown> }[]> {
  const { request } = await import("node:https");
  const url = new URL(path, cluster.url);
  return new Promise((resolve, reject) => {
    const events: { type: string; object: Record<string, unknown> }[] = [];
    const timer = setTimeout(() => {
      r.destroy();
      reject(new Error(`watch ${path} timed out with ${JSON.stringify(events.map((e) => e.type))}`));
    }, 5000);
    const r = request(
      url,
      { ca: cluster.server.caPem, headers: { authorization: `Bearer ${cluster.server.adminToken}` } },
      (res) => {
        let buffer = "";
        const finish = () => {
          clearTimeout(timer);
          r.destroy();
          resolve(events);
        };
        res.on("data", (chunk: Buffer) => {
          buffer += chunk.toString();
          let i = buffer.indexOf("\n");
          while (i >= 0) {
            events.push(JSON.parse(buffer.slice(0, i)));
            buffer = buffer.slice(i + 1);
            i = buffer.indexOf("\n");
          }
          if (enough(events)) finish();
        });
        res.on("end", finish);
        afterConnect?.().catch(reject);
      },
    );
    r.on("error", (e) => {
      if (!r.destroyed) reject(e);
    });
    r.end();
  });
}

describe("http", () => {
  test("auth: 401 Status without a valid token; /version and /healthz are public", async () => {
    const none = await req("GET", BUILDS, { token: null });
    expectStatus(none, 401, "Unauthorized");
    assert.equal(none.json().message, "Unauthorized");
    expectStatus(await req("GET", BUILDS, { token: "nope" }), 401, "Unauthorized");
    const version = await req("GET", "/version", { token: null });
    assert.equal(version.json().minor, "34");
    assert.equal((await req("GET", "/healthz", { token: null })).text, "ok");
  });

  test("errors: NotFound for unknown paths, BadRequest for bad bodies and parameters", async () => {
    const missing = expectStatus(await req("GET", "/apis/nope.dev/v1/things"), 404, "NotFound");
    assert.equal(missing.message, "the server could not find the requested resource");
    expectStatus(await req("POST", BUILDS, { body: "{not json" }), 400, "BadRequest");
    expectStatus(
      await req("GET", `${BUILDS}?labelSelector=${encodeURIComponent("a b c")}`),
      400,
      "BadRequest",
    );
    expectStatus(
      await req("POST", `${BUILDS}?fieldValidation=Loud`, { body: buildBody("x") }),
      400,
      "BadRequest",
    );
    const mismatch = expectStatus(
      await req("POST", BUILDS, { body: { ...buildBody("x"), apiVersion: "kiln.dev/v2" } }),
      400,
      "BadRequest",
    );
    assert.match(String(mismatch.message), /does not match the expected API version/);
  });

  test("errors name the resource as kube does; a PUT with another object's uid is a Conflict", async () => {
    const missing = expectStatus(await req("GET", `${PODS}/nope`), 404, "NotFound");
    assert.equal(missing.message, 'pods "nope" not found');
    assert.deepEqual(missing.details, { name: "nope", kind: "pods" });
    await req("POST", "/api/v1/namespaces/default/configmaps", { body: { metadata: { name: "uid-a" } } });
    const cm = (await req("GET", "/api/v1/namespaces/default/configmaps/uid-a")).json();
    const swapped = {
      ...cm,
      metadata: { ...(cm.metadata as object), uid: "11111111-1111-1111-1111-111111111111" },
    };
    const conflict = expectStatus(
      await req("PUT", "/api/v1/namespaces/default/configmaps/uid-a", { body: swapped }),
      409,
      "Conflict",
    );
    assert.match(String(conflict.message), /Precondition failed: UID in precondition/);
    const deleted = (await req("DELETE", "/api/v1/namespaces/default/configmaps/uid-a")).json();
    assert.equal(deleted.kind, "Status");
    assert.equal(deleted.status, "Success");
    assert.deepEqual(deleted.details, {
      name: "uid-a",
      kind: "configmaps",
      uid: (cm.metadata as { uid: string }).uid,
    });
  });

  test("discovery, legacy and aggregated", async () => {
    const api = (await req("GET", "/api")).json();
    assert.equal(api.kind, "APIVersions");
    assert.deepEqual(api.versions, ["v1"]);
    const groups = (await req("GET", "/apis")).json() as {
      groups: { name: string; preferredVersion: { version: string } }[];
    };
    const kiln = groups.groups.find((g) => g.name === "kiln.dev");
    assert.equal(kiln?.preferredVersion.version, "v1alpha1");
    const resources = (await req("GET", "/apis/kiln.dev/v1alpha1")).json() as {
      resources: {
        name: string;
        kind: string;
        verbs: string[];
        shortNames?: string[];
        categories?: string[];
      }[];
    };
    const builds = resources.resources.find((r) => r.name === "builds");
    assert.deepEqual(builds?.shortNames, ["bld"]);
    assert.deepEqual(builds?.categories, ["kiln"]);
    assert.ok(resources.resources.some((r) => r.name === "builds/status" && r.kind === "Build"));
    const core = (await req("GET", "/api/v1")).json() as { resources: { name: string; kind: string }[] };
    assert.ok(core.resources.some((r) => r.name === "serviceaccounts/token" && r.kind === "TokenRequest"));
    assert.ok(core.resources.some((r) => r.name === "pods/log"));
    const aggregated = await req("GET", "/apis", {
      headers: {
        accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
      },
    });
    assert.match(String(aggregated.headers["content-type"]), /as=APIGroupDiscoveryList/);
    const list = aggregated.json() as {
      kind: string;
      items: {
        metadata: { name: string };
        versions: { version: string; resources: { resource: string; scope: string }[] }[];
      }[];
    };
    assert.equal(list.kind, "APIGroupDiscoveryList");
    const group = list.items.find((i) => i.metadata.name === "kiln.dev");
    assert.ok(group?.versions[0]?.resources.some((r) => r.resource === "builds" && r.scope === "Namespaced"));
  });

  test("openapi v3 index and documents; v2", async () => {
    const index = (await req("GET", "/openapi/v3")).json() as {
      paths: Record<string, { serverRelativeURL: string }>;
    };
    const url = index.paths["apis/kiln.dev/v1alpha1"]?.serverRelativeURL;
    assert.match(url ?? "", /^\/openapi\/v3\/apis\/kiln.dev\/v1alpha1\?hash=[0-9A-F]+$/);
    const doc = (await req("GET", url!)).json() as { components: { schemas: Record<string, unknown> } };
    assert.ok(doc.components.schemas["dev.kiln.v1alpha1.Build"]);
    assert.ok(index.paths["api/v1"]);
    const v2 = (await req("GET", "/openapi/v2")).json() as {
      swagger: string;
      definitions: Record<string, unknown>;
    };
    assert.equal(v2.swagger, "2.0");
    assert.ok(v2.definitions["dev.kiln.v1alpha1.Repository"]);
  });

  test("Table and PartialObjectMetadata output", async () => {
    await req("POST", BUILDS, { body: buildBody("tabled", { labels: { "kiln.dev/commit": "4f2c1a9" } }) });
    const accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    const table = (
      await req("GET", `${BUILDS}?labelSelector=kiln.dev/commit`, { headers: { accept } })
    ).json() as {
      kind: string;
      columnDefinitions: { name: string; priority: number }[];
      rows: { cells: unknown[]; object: { kind: string } }[];
    };
    assert.equal(table.kind, "Table");
    assert.deepEqual(
      table.columnDefinitions.map((c) => c.name),
      ["Name", "Repository", "Branch", "Commit", "Phase", "Duration", "Age", "Trigger", "Message"],
    );
    assert.deepEqual(table.rows[0]!.cells.slice(0, 4), ["tabled", "api", "main", "4f2c1a9"]);
    assert.equal(table.rows[0]!.object.kind, "PartialObjectMetadata");
    const one = (
      await req("GET", `${BUILDS}/tabled?includeObject=Object`, { headers: { accept } })
    ).json() as { rows: { object: { kind: string } }[] };
    assert.equal(one.rows[0]!.object.kind, "Build");
    const meta = (
      await req("GET", BUILDS, {
        headers: { accept: "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io" },
      })
    ).json() as { kind: string; items: { metadata: { name: string } }[] };
    assert.equal(meta.kind, "PartialObjectMetadataList");
    assert.ok(meta.items.some((i) => i.metadata.name === "tabled"));
    assert.equal(
      (await req("GET", BUILDS, { headers: { accept: "application/vnd.kubernetes.protobuf" } })).status,
      406,
    );
  });

  test("patch types: apply → 415, strategic merge on custom resources → 415, strategic merge of pod lists", async () => {
    await req("POST", BUILDS, { body: buildBody("patched") });
    const apply = await req("PATCH", `${BUILDS}/patched`, {
      body: "{}",
      headers: { "content-type": "application/apply-patch+yaml" },
    });
    expectStatus(apply, 415, "UnsupportedMediaType");
    const smp = await req("PATCH", `${BUILDS}/patched`, {
      body: {},
      headers: { "content-type": "application/strategic-merge-patch+json" },
    });
    expectStatus(smp, 415, "UnsupportedMediaType");
    const pod = podBody("smp") as { spec: { containers: Record<string, unknown>[] } };
    pod.spec.containers.push({ name: "side", image: "busybox:1.36", env: [{ name: "A", value: "1" }] });
    await req("POST", PODS, { body: pod });
    const patched = await req("PATCH", `${PODS}/smp`, {
      body: {
        metadata: { labels: { l: "v" } },
        spec: { containers: [{ name: "side", image: "busybox:1.37" }] },
      },
      headers: { "content-type": "application/strategic-merge-patch+json" },
    });
    assert.equal(patched.status, 200, patched.text);
    const containers = (
      patched.json().spec as { containers: { name: string; image: string; env?: unknown[] }[] }
    ).containers;
    assert.deepEqual(
      containers.map((c) => [c.name, c.image]),
      [
        ["main", "busybox:1.36"],
        ["side", "busybox:1.37"],
      ],
    );
    assert.deepEqual(containers[1]!.env, [{ name: "A", value: "1" }]);
  });

  test("dryRun=All validates without storing", async () => {
    const dry = await req("POST", `${BUILDS}?dryRun=All`, { body: buildBody("dry") });
    assert.equal(dry.status, 201);
    assert.equal((dry.json().spec as { timeout: string }).timeout, "1h");
    expectStatus(await req("GET", `${BUILDS}/dry`), 404, "NotFound");
  });

  test("pods: service-account volume, binding, graceful deletion", async () => {
    const created = (await req("POST", PODS, { body: podBody("graceful") })).json() as {
      spec: { volumes: { name: string }[]; containers: { volumeMounts: { mountPath: string }[] }[] };
    };
    assert.match(created.spec.volumes[0]!.name, /^kube-api-access-[a-z0-9]{5}$/);
    assert.equal(
      created.spec.containers[0]!.volumeMounts[0]!.mountPath,
      "/var/run/secrets/kubernetes.io/serviceaccount",
    );
    const bind = await req("POST", `${PODS}/graceful/binding`, {
      body: {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name: "graceful" },
        target: { apiVersion: "v1", kind: "Node", name: "node-1" },
      },
    });
    assert.equal(bind.status, 201, bind.text);
    expectStatus(
      await req("POST", `${PODS}/graceful/binding`, { body: { target: { kind: "Node", name: "node-2" } } }),
      409,
      "Conflict",
    );
    const deleting = await req("DELETE", `${PODS}/graceful`);
    assert.equal(deleting.status, 200, deleting.text);
    assert.equal(deleting.json().kind, "Pod");
    const meta = deleting.json().metadata as {
      deletionTimestamp?: string;
      deletionGracePeriodSeconds?: number;
    };
    assert.equal(meta.deletionGracePeriodSeconds, 30);
    assert.ok(meta.deletionTimestamp);
    assert.equal((await req("GET", `${PODS}/graceful`)).status, 200, "a bound pod waits for its kubelet");
    const forced = await req("DELETE", `${PODS}/graceful`, { body: { gracePeriodSeconds: 0 } });
    assert.equal(forced.status, 200, forced.text);
    assert.equal(forced.json().kind, "Pod", "a pod's delete answers with the pod");
    expectStatus(await req("GET", `${PODS}/graceful`), 404, "NotFound");
    await req("POST", PODS, { body: podBody("unbound") });
    const unbound = await req("DELETE", `${PODS}/unbound`);
    assert.equal(unbound.status, 200, unbound.text);
    assert.equal((unbound.json().metadata as { name: string }).name, "unbound");
    expectStatus(await req("GET", `${PODS}/unbound`), 404, "NotFound");
    const noAccount = await req("POST", PODS, {
      body: { ...podBody("no-sa"), spec: { ...podBody("x").spec, serviceAccountName: "ghost" } },
    });
    expectStatus(noAccount, 403, "Forbidden");
  });

  test("a terminated container of a restartPolicy Never pod may not run again", async () => {
    await req("POST", PODS, { body: podBody("once") });
    const status = (state: Record<string, unknown>) => ({
      status: {
        phase: "Running",
        containerStatuses: [
          { name: "main", image: "busybox:1.36", imageID: "", ready: false, restartCount: 0, state },
        ],
      },
    });
    const merge = { "content-type": "application/merge-patch+json" };
    const done = await req("PATCH", `${PODS}/once/status`, {
      body: status({
        terminated: {
          exitCode: 0,
          reason: "Completed",
          startedAt: "2026-01-01T00:00:00.123Z",
          finishedAt: "2026-01-01T00:00:01Z",
        },
      }),
      headers: merge,
    });
    assert.equal(done.status, 200, done.text);
    const started = (
      done.json().status as { containerStatuses: { state: { terminated: { startedAt: string } } }[] }
    ).containerStatuses[0]!;
    assert.equal(started.state.terminated.startedAt, "2026-01-01T00:00:00Z", "metav1.Time has whole seconds");
    const again = await req("PATCH", `${PODS}/once/status`, {
      body: status({ running: { startedAt: "2026-01-01T00:00:02Z" } }),
      headers: merge,
    });
    const body = expectStatus(again, 422, "Invalid");
    assert.match(
      String(body.message),
      /status.containerStatuses\[0\].state: Forbidden: may not be transitioned to non-terminated state/,
    );
  });

  test("TokenReview tells valid tokens from others", async () => {
    const issued = (
      await req("POST", "/api/v1/namespaces/default/serviceaccounts/default/token", {
        body: { spec: { audiences: ["kiln"] } },
      })
    ).json().status as { token: string };
    const review = async (token: string, audiences?: string[]) =>
      (
        await req("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
          body: {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenReview",
            spec: { token, ...(audiences ? { audiences } : {}) },
          },
        })
      ).json().status as { authenticated: boolean; user?: { username: string }; audiences?: string[] };
    const valid = await review(issued.token, ["other", "kiln"]);
    assert.deepEqual(valid.user?.username, "system:serviceaccount:default:default");
    assert.deepEqual(valid.audiences, ["kiln"], "the asked audiences the token holds");
    // As kube: asked for none, the server's own audiences, which a token for "kiln" does not hold.
    assert.equal((await review(issued.token)).authenticated, false);
    assert.equal((await review(issued.token, ["elsewhere"])).authenticated, false);
    assert.equal((await review("forged", ["kiln"])).authenticated, false);
    expectStatus(await req("GET", "/apis/authentication.k8s.io/v1/tokenreviews"), 405, "MethodNotAllowed");
  });

  test("TokenRequest issues a token the server accepts", async () => {
    const r = await req("POST", "/api/v1/namespaces/default/serviceaccounts/default/token", {
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { audiences: ["kiln"], expirationSeconds: 3600 },
      },
    });
    assert.equal(r.status, 201, r.text);
    const status = r.json().status as { token: string; expirationTimestamp: string };
    const claims = JSON.parse(Buffer.from(status.token.split(".")[1]!, "base64url").toString()) as {
      sub: string;
      aud: string[];
    };
    assert.equal(claims.sub, "system:serviceaccount:default:default");
    assert.deepEqual(claims.aud, ["kiln"]);
    // A token for another audience is no credential for the API server (as kube: 401) …
    assert.equal((await req("GET", "/apis", { token: status.token })).status, 401);
    // … one for its own (the default) is: discovery is every authenticated user's (system:discovery).
    const own = await req("POST", "/api/v1/namespaces/default/serviceaccounts/default/token", {
      body: { spec: { expirationSeconds: 3600 } },
    });
    const ownToken = (own.json().status as { token: string }).token;
    assert.equal((await req("GET", "/apis", { token: ownToken })).status, 200);
    const short = await req("POST", "/api/v1/namespaces/default/serviceaccounts/default/token", {
      body: { spec: { expirationSeconds: 60 } },
    });
    expectStatus(short, 400, "BadRequest");
  });

  test("a token stops working when its ServiceAccount or its bound Pod goes (or is replaced)", async () => {
    const base = "/api/v1/namespaces/default";
    const tokenFor = async (sa: string, spec: Record<string, unknown> = {}) => {
      const r = await req("POST", `${base}/serviceaccounts/${sa}/token`, { body: { spec } });
      assert.equal(r.status, 201, r.text);
      return (r.json().status as { token: string }).token;
    };
    const works = async (token: string) => (await req("GET", "/apis", { token })).status;
    await req("POST", `${base}/serviceaccounts`, { body: { metadata: { name: "short-lived" } } });
    const saToken = await tokenFor("short-lived");
    assert.equal(await works(saToken), 200);
    const gone = await req("DELETE", `${base}/serviceaccounts/short-lived`);
    assert.equal(gone.status, 200, gone.text);
    assert.equal(gone.json().kind, "ServiceAccount");
    await req("POST", `${base}/serviceaccounts`, { body: { metadata: { name: "short-lived" } } });
    assert.equal(await works(saToken), 401, "the ServiceAccount of that name now is another one");
    const newToken = await tokenFor("short-lived");
    assert.equal(await works(newToken), 200);

    const pod = await req("POST", `${base}/pods`, { body: podBody("token-holder") });
    assert.equal(pod.status, 201, pod.text);
    const podToken = await tokenFor("default", {
      boundObjectRef: {
        kind: "Pod",
        apiVersion: "v1",
        name: "token-holder",
        uid: (pod.json().metadata as { uid: string }).uid,
      },
    });
    assert.equal(await works(podToken), 200);
    const deleted = await req("DELETE", `${base}/pods/token-holder?gracePeriodSeconds=0`);
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal(deleted.json().kind, "Pod");
    assert.equal(await works(podToken), 401, "the Pod it was bound to is gone");
  });

  test("events: one store, served as v1 and events.k8s.io/v1, selectable by involved object", async () => {
    const created = await req("POST", "/apis/events.k8s.io/v1/namespaces/default/events", {
      body: {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name: "e1" },
        eventTime: "2026-01-01T00:00:00.000000Z",
        reportingController: "kiln.dev/test",
        reportingInstance: "t",
        action: "Test",
        reason: "Tested",
        type: "Normal",
        note: "hello",
        regarding: { kind: "Build", name: "tabled", namespace: "default" },
      },
    });
    assert.equal(created.status, 201, created.text);
    const core = (
      await req("GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=tabled")
    ).json() as {
      items: { message: string; involvedObject: { kind: string } }[];
    };
    assert.equal(core.items.length, 1);
    assert.equal(core.items[0]!.message, "hello");
    assert.equal(core.items[0]!.involvedObject.kind, "Build");
    const none = (
      await req("GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=other")
    ).json() as { items: unknown[] };
    assert.equal(none.items.length, 0);
  });

  test("deleting a namespace deletes its contents, then the namespace", async () => {
    await req("POST", "/api/v1/namespaces", {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "doomed" } },
    });
    await req("POST", "/apis/kiln.dev/v1alpha1/namespaces/doomed/builds", {
      body: { ...buildBody("held"), metadata: { name: "held", finalizers: ["kiln.dev/hold"] } },
    });
    await req("POST", "/api/v1/namespaces/doomed/configmaps", {
      body: { metadata: { name: "cm" }, data: { a: "b" } },
    });
    const deleting = await req("DELETE", "/api/v1/namespaces/doomed");
    assert.equal(deleting.status, 200, deleting.text);
    assert.equal(deleting.json().kind, "Namespace");
    assert.equal((deleting.json().status as { phase: string }).phase, "Terminating");
    await waitFor(
      "the configmaps to go",
      async () => (await req("GET", "/api/v1/namespaces/doomed/configmaps/cm")).status === 404,
    );
    expectStatus(
      await req("POST", "/api/v1/namespaces/doomed/configmaps", { body: { metadata: { name: "late" } } }),
      403,
      "Forbidden",
    );
    assert.equal(
      (await req("GET", "/api/v1/namespaces/doomed")).status,
      200,
      "held by the Build's finalizer",
    );
    await req("PATCH", "/apis/kiln.dev/v1alpha1/namespaces/doomed/builds/held", {
      body: { metadata: { finalizers: null } },
      headers: { "content-type": "application/merge-patch+json" },
    });
    await waitFor(
      "the namespace to go",
      async () => (await req("GET", "/api/v1/namespaces/doomed")).status === 404,
    );
  });

  test("watch: timeoutSeconds ends it; sendInitialEvents ends its initial events with a bookmark", async () => {
    const started = Date.now();
    const ended = await watchEvents(`${BUILDS}?watch=true&timeoutSeconds=1&labelSelector=none`, () => false);
    assert.deepEqual(ended, []);
    assert.ok(Date.now() - started >= 900);
    const initial = await watchEvents(
      `${BUILDS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&fieldSelector=metadata.name=tabled`,
      (events) => events.some((e) => e.type === "BOOKMARK"),
    );
    assert.equal(initial[0]!.type, "ADDED");
    const bookmark = initial.find((e) => e.type === "BOOKMARK")!;
    assert.deepEqual((bookmark.object.metadata as { annotations: unknown }).annotations, {
      "k8s.io/initial-events-end": "true",
    });
    const table = await watchEvents(
      `${BUILDS}?watch=true&fieldSelector=metadata.name=tabled`,
      (events) => events.length >= 1,
    );
    assert.equal(table[0]!.type, "ADDED");
  });

  test("list and watch options kube refuses are refused", async () => {
    const refused: [string, string][] = [
      [
        "resourceVersionMatch=NotOlderThan",
        "resourceVersionMatch is forbidden unless resourceVersion is provided",
      ],
      [
        "resourceVersion=0&resourceVersionMatch=Exact",
        'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
      ],
      ["resourceVersion=1&resourceVersionMatch=Newest", 'resourceVersionMatch: Unsupported value: "Newest"'],
      [
        "continue=abc&resourceVersionMatch=NotOlderThan&resourceVersion=1",
        "forbidden when continue is provided",
      ],
      ["sendInitialEvents=true", "sendInitialEvents is forbidden for list"],
      [
        "watch=true&resourceVersionMatch=NotOlderThan",
        "forbidden for watch unless sendInitialEvents is provided",
      ],
      [
        "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
        "unless allowWatchBookmarks=true",
      ],
      ["watch=true&sendInitialEvents=false", "sendInitialEvents requires setting resourceVersionMatch"],
    ];
    for (const [query, message] of refused) {
      const body = expectStatus(await req("GET", `${BUILDS}?${query}`), 400, "BadRequest");
      assert.ok(String(body.message).includes(message), `${query}: ${body.message}`);
    }
    const accepted = await req("GET", `${BUILDS}?resourceVersion=0&resourceVersionMatch=NotOlderThan`);
    assert.equal(accepted.status, 200, accepted.text);
  });

  test("a resourceVersion the server has not reached: 504 for list, an ERROR event for watch", async () => {
    const future = "999999999";
    const list = expectStatus(await req("GET", `${BUILDS}?resourceVersion=${future}`), 504, "Timeout");
    assert.deepEqual((list.details as { retryAfterSeconds?: number }).retryAfterSeconds, 1);
    const events = await watchEvents(`${BUILDS}?watch=true&resourceVersion=${future}`, () => false);
    assert.deepEqual(
      events.map((e) => [e.type, e.object.code, e.object.reason]),
      [["ERROR", 504, "Timeout"]],
    );
    assert.match(JSON.stringify(events[0]!.object.details), /Too large resource version: 999999999/);
  });

  test("a body in a media type kube does not decode is 415, not read as JSON", async () => {
    for (const type of ["text/plain", "application/cbor", "application/x-www-form-urlencoded"]) {
      const r = await req("POST", "/api/v1/namespaces/default/configmaps", {
        body: { metadata: { name: "typed" } },
        headers: { "content-type": type },
      });
      expectStatus(r, 415, "UnsupportedMediaType");
    }
    const yaml = await req("POST", "/api/v1/namespaces/default/configmaps", {
      body: "metadata:\n  name: typed-yaml\n",
      headers: { "content-type": "application/yaml" },
    });
    assert.equal(yaml.status, 201, yaml.text);
    const charset = await req("POST", "/api/v1/namespaces/default/configmaps", {
      body: { metadata: { name: "typed-json" } },
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    assert.equal(charset.status, 201, charset.text);
  });

  test("metadata kube refuses: incomplete owner references, two controllers, bad finalizers, huge annotations", async () => {
    const owner = { apiVersion: "v1", kind: "ConfigMap", name: "o", uid: "u1" };
    const refused: [Record<string, unknown>, string][] = [
      [
        { ownerReferences: [{ ...owner, uid: "" }] },
        'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
      ],
      [{ ownerReferences: [{ ...owner, apiVersion: "" }] }, "metadata.ownerReferences.apiVersion"],
      [
        {
          ownerReferences: [
            { ...owner, controller: true },
            { ...owner, name: "p", uid: "u2", controller: true },
          ],
        },
        "Only one reference can have Controller set to true",
      ],
      [{ finalizers: ["not a name"] }, "metadata.finalizers"],
      [{ finalizers: ["orphan", "foregroundDeletion"] }, "cannot be both set"],
      [{ annotations: { big: "x".repeat(256 * 1024) } }, "metadata.annotations: Too long"],
    ];
    for (const [metadata, message] of refused) {
      const body = expectStatus(
        await req("POST", "/api/v1/namespaces/default/configmaps", {
          body: { metadata: { name: "meta-check", ...metadata } },
        }),
        422,
        "Invalid",
      );
      assert.ok(
        String(body.message).includes(message),
        `${JSON.stringify(metadata).slice(0, 80)}: ${body.message}`,
      );
    }
    const fine = await req("POST", "/api/v1/namespaces/default/configmaps", {
      body: {
        metadata: {
          name: "meta-check",
          ownerReferences: [{ ...owner, controller: true }],
          finalizers: ["kiln.dev/x"],
        },
      },
    });
    assert.equal(fine.status, 201, fine.text);
    await req("PATCH", "/api/v1/namespaces/default/configmaps/meta-check", {
      body: { metadata: { finalizers: null } },
      headers: { "content-type": "application/merge-patch+json" },
    });
  });

  test("watch: the response starts before any event, as kube flushes it at once", async () => {
    const events = await watchEvents(
      `${BUILDS}?watch=true&labelSelector=early-headers`,
      (seen) => seen.length >= 1,
      async () => {
        const created = await req("POST", BUILDS, {
          body: buildBody("early-headers", { labels: { "early-headers": "y" } }),
        });
        assert.equal(created.status, 201, created.text);
      },
    );
    assert.deepEqual(
      events.map((e) => [e.type, (e.object.metadata as { name: string }).name]),
      [["ADDED", "early-headers"]],
    );
  });

  test("watch: timeoutSeconds=0 is kube's default timeout, not a watch that ends at once", async () => {
    const { request } = await import("node:https");
    const url = new URL(`${BUILDS}?watch=true&timeoutSeconds=0&labelSelector=none`, cluster.url);
    const ended = await new Promise<boolean>((resolve) => {
      const r = request(
        url,
        { ca: cluster.server.caPem, headers: { authorization: `Bearer ${cluster.server.adminToken}` } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(true));
        },
      );
      r.on("error", () => {});
      r.end();
      setTimeout(() => {
        r.destroy();
        resolve(false);
      }, 300);
    });
    assert.equal(ended, false, "the watch stays open");
  });

  test("CRDs of both scopes come and go", async () => {
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "widgets.example.dev" },
      spec: {
        group: "example.dev",
        scope: "Cluster",
        names: { plural: "widgets", kind: "Widget" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: { type: "object", properties: { size: { type: "integer", default: 3 } } },
                  status: { type: "object", properties: { seen: { type: "boolean" } } },
                },
              },
            },
            selectableFields: [{ jsonPath: ".spec.size" }],
          },
        ],
      },
    };
    const created = await req("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {
      body: crd,
    });
    assert.equal(created.status, 201, created.text);
    const conditions = (created.json().status as { conditions: { type: string; status: string }[] })
      .conditions;
    assert.ok(conditions.some((c) => c.type === "Established" && c.status === "True"));
    assert.ok(conditions.some((c) => c.type === "NamesAccepted" && c.status === "True"));
    const widget = await req("POST", "/apis/example.dev/v1/widgets", {
      body: { apiVersion: "example.dev/v1", kind: "Widget", metadata: { name: "w" }, spec: {} },
    });
    assert.equal(widget.status, 201, widget.text);
    assert.equal((widget.json().spec as { size: number }).size, 3);
    // Without a status subresource, status is written through the main endpoint and counts for generation.
    const seen = await req("PATCH", "/apis/example.dev/v1/widgets/w", {
      body: { status: { seen: true } },
      headers: { "content-type": "application/merge-patch+json" },
    });
    assert.deepEqual(seen.json().status, { seen: true });
    assert.equal((seen.json().metadata as { generation: number }).generation, 2);
    const selected = (await req("GET", "/apis/example.dev/v1/widgets?fieldSelector=spec.size=3")).json() as {
      items: unknown[];
    };
    assert.equal(selected.items.length, 1);
    expectStatus(await req("GET", "/apis/example.dev/v1/namespaces/default/widgets"), 404, "NotFound");
    const structural = await req("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {
      body: {
        ...crd,
        metadata: { name: "gadgets.example.dev" },
        spec: {
          ...crd.spec,
          names: { plural: "gadgets", kind: "Gadget" },
          versions: [{ ...crd.spec.versions[0], schema: { openAPIV3Schema: { properties: {} } } }],
        },
      },
    });
    expectStatus(structural, 422, "Invalid");
    // Deleting the CRD deletes its objects first; one with a finalizer holds it.
    await req("PATCH", "/apis/example.dev/v1/widgets/w", {
      body: { metadata: { finalizers: ["example.dev/hold"] } },
      headers: { "content-type": "application/merge-patch+json" },
    });
    const deleting = await req(
      "DELETE",
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.dev",
    );
    assert.deepEqual((deleting.json().metadata as { finalizers: string[] }).finalizers, [
      "customresourcecleanup.apiextensions.k8s.io",
    ]);
    await waitFor("the widget to be deleting", async () => {
      const w = (await req("GET", "/apis/example.dev/v1/widgets/w")).json();
      return (w.metadata as { deletionTimestamp?: string }).deletionTimestamp !== undefined;
    });
    const crdNow = (
      await req("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.dev")
    ).json();
    assert.ok(
      (crdNow.status as { conditions: { type: string }[] }).conditions.some((c) => c.type === "Terminating"),
    );
    expectStatus(
      await req("POST", "/apis/example.dev/v1/widgets", {
        body: { apiVersion: "example.dev/v1", kind: "Widget", metadata: { name: "late" } },
      }),
      405,
      "MethodNotAllowed",
    );
    await req("PATCH", "/apis/example.dev/v1/widgets/w", {
      body: { metadata: { finalizers: null } },
      headers: { "content-type": "application/merge-patch+json" },
    });
    await waitFor(
      "the CRD and its resource to go",
      async () => (await req("GET", "/apis/example.dev/v1/widgets")).status === 404,
    );
    expectStatus(
      await req("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.dev"),
      404,
      "NotFound",
    );
  });

  test("updates of custom resources need a resourceVersion; creates must not carry one", async () => {
    const made = (await req("POST", BUILDS, { body: buildBody("rv-rules") })).json();
    const { resourceVersion: _, ...meta } = made.metadata as Record<string, unknown>;
    const unconditional = expectStatus(
      await req("PUT", `${BUILDS}/rv-rules`, { body: { ...made, metadata: meta } }),
      422,
      "Invalid",
    );
    assert.match(
      String(unconditional.message),
      /metadata.resourceVersion: Invalid value: 0x0: must be specified for an update/,
    );
    const copy = { ...made, metadata: { ...(made.metadata as object), name: "rv-copy", uid: undefined } };
    expectStatus(await req("POST", BUILDS, { body: copy }), 500, "InternalError");
    const cm = (
      await req("POST", "/api/v1/namespaces/default/configmaps", {
        body: { metadata: { name: "free" }, data: { a: "1" } },
      })
    ).json();
    const { resourceVersion: __, ...cmMeta } = cm.metadata as Record<string, unknown>;
    assert.equal(
      (
        await req("PUT", "/api/v1/namespaces/default/configmaps/free", {
          body: { ...cm, metadata: cmMeta, data: { a: "2" } },
        })
      ).status,
      200,
    );
  });

  test("deletecollection, orphaning, dangling owners, eviction", async () => {
    for (const n of ["dc-1", "dc-2"])
      await req("POST", BUILDS, { body: buildBody(n, { labels: { dc: "yes" } }) });
    const collection = await req("DELETE", `${BUILDS}?labelSelector=dc=yes`);
    assert.equal(collection.status, 200, collection.text);
    const removed = collection.json() as {
      kind: string;
      apiVersion: string;
      items: { metadata: { name: string } }[];
    };
    assert.deepEqual([removed.kind, removed.apiVersion], ["BuildList", "kiln.dev/v1alpha1"]);
    assert.deepEqual(removed.items.map((i) => i.metadata.name).sort(), ["dc-1", "dc-2"]);
    assert.equal(((await req("GET", `${BUILDS}?labelSelector=dc=yes`)).json().items as unknown[]).length, 0);

    const owner = (await req("POST", BUILDS, { body: buildBody("orphaner") })).json();
    const ref = {
      apiVersion: "kiln.dev/v1alpha1",
      kind: "Build",
      name: "orphaner",
      uid: (owner.metadata as { uid: string }).uid,
    };
    await req("POST", PODS, { body: podBody("orphan", { ownerReferences: [ref] }) });
    const orphaning = await req("DELETE", `${BUILDS}/orphaner`, { body: { propagationPolicy: "Orphan" } });
    assert.equal(orphaning.status, 200, orphaning.text);
    assert.deepEqual(
      (orphaning.json().metadata as { finalizers?: string[] }).finalizers,
      ["orphan"],
      "it waits for the garbage collector to orphan its dependents",
    );
    await waitFor("the owner to go", async () => (await req("GET", `${BUILDS}/orphaner`)).status === 404);
    const orphan = (await req("GET", `${PODS}/orphan`)).json();
    assert.equal(
      (orphan.metadata as { ownerReferences?: unknown }).ownerReferences,
      undefined,
      "the pod stays, without the reference",
    );

    const ghost = {
      apiVersion: "kiln.dev/v1alpha1",
      kind: "Build",
      name: "ghost",
      uid: "00000000-0000-0000-0000-000000000000",
    };
    assert.equal(
      (await req("POST", PODS, { body: podBody("dangling", { ownerReferences: [ghost] }) })).status,
      201,
    );
    await waitFor(
      "the dangling pod to be collected",
      async () => (await req("GET", `${PODS}/dangling`)).status === 404,
    );

    await req("POST", PODS, { body: podBody("evicted") });
    const eviction = await req("POST", `${PODS}/evicted/eviction`, {
      body: {
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name: "evicted", namespace: "default" },
      },
    });
    assert.equal(eviction.status, 201, eviction.text);
    expectStatus(await req("GET", `${PODS}/evicted`), 404, "NotFound");
  });

  test("pods/log passes follow, tailLines and the container to the log source", async () => {
    const pod = podBody("logged") as { spec: { containers: Record<string, unknown>[] } };
    pod.spec.containers.push({ name: "agent", image: "kiln" });
    await req("POST", PODS, { body: pod });
    const asked: unknown[] = [];
    let live: PassThrough | undefined;
    cluster.server.setPodLogSource((namespace, name, container, options) => {
      asked.push({ namespace, name, container, ...options });
      if (name !== "logged") return undefined;
      live = new PassThrough();
      live.write("line 1\n");
      if (!options.follow) live.end();
      return live;
    });
    try {
      const noContainer = expectStatus(await req("GET", `${PODS}/logged/log`), 400, "BadRequest");
      assert.match(
        String(noContainer.message),
        /a container name must be specified for pod logged, choose one of: \[main agent\]/,
      );
      const plain = await req("GET", `${PODS}/logged/log?container=agent&tailLines=5`);
      assert.equal(plain.text, "line 1\n");
      assert.deepEqual(asked.at(-1), {
        namespace: "default",
        name: "logged",
        container: "agent",
        follow: false,
        tailLines: 5,
        sinceSeconds: undefined,
        timestamps: false,
        previous: false,
      });
      const following = req("GET", `${PODS}/logged/log?container=main&follow=true`);
      await waitFor(
        "the follow stream",
        () => live !== undefined && (asked.at(-1) as { follow: boolean }).follow,
      );
      live!.write("line 2\n");
      live!.end();
      assert.equal((await following).text, "line 1\nline 2\n");
    } finally {
      cluster.server.setPodLogSource(undefined);
    }
    const missing = expectStatus(await req("GET", `${PODS}/logged/log?container=main`), 400, "BadRequest");
    assert.match(String(missing.message), /is waiting to start/);
  });

  test("pods/log: a reader that does not read pauses the log source (no unbounded buffering)", async () => {
    await req("POST", PODS, { body: podBody("chatty") });
    const chunk = Buffer.alloc(64 * 1024, "x");
    const total = 64 * 1024 * 1024;
    let produced = 0;
    cluster.server.setPodLogSource((_ns, name) => {
      if (name !== "chatty") return undefined;
      return new Readable({
        read() {
          if (produced >= total) this.push(null);
          else {
            produced += chunk.length;
            this.push(chunk);
          }
        },
      });
    });
    const { request } = await import("node:https");
    try {
      await new Promise<void>((resolve, reject) => {
        const r = request(
          new URL(`${PODS}/chatty/log`, cluster.url),
          { ca: cluster.server.caPem, headers: { authorization: `Bearer ${cluster.server.adminToken}` } },
          (res) => {
            res.pause();
            setTimeout(() => {
              r.destroy();
              resolve();
            }, 300);
          },
        );
        r.on("error", (e) => {
          if (!r.destroyed) reject(e);
        });
        r.end();
      });
      assert.ok(produced < total / 4, `the source ran ahead of the reader: ${produced} bytes produced`);
    } finally {
      cluster.server.setPodLogSource(undefined);
    }
  });

  test("the default ServiceAccount and kube-root-ca.crt come back when deleted", async () => {
    const account = await req("DELETE", "/api/v1/namespaces/default/serviceaccounts/default");
    assert.equal(account.status, 200, account.text);
    assert.equal(account.json().kind, "ServiceAccount");
    const ca = await req("DELETE", "/api/v1/namespaces/default/configmaps/kube-root-ca.crt");
    assert.equal(ca.status, 200, ca.text);
    assert.equal(ca.json().kind, "Status");
    await waitFor(
      "the ServiceAccount",
      async () => (await req("GET", "/api/v1/namespaces/default/serviceaccounts/default")).status === 200,
    );
    await waitFor(
      "the CA ConfigMap",
      async () => (await req("GET", "/api/v1/namespaces/default/configmaps/kube-root-ca.crt")).status === 200,
    );
  });

  test("deployments: the selector must match the template's labels", async () => {
    const deployment = (labels: Record<string, string>) => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels }, spec: { containers: [{ name: "web", image: "nginx:1" }] } },
      },
    });
    const wrong = expectStatus(
      await req("POST", "/apis/apps/v1/namespaces/default/deployments", {
        body: deployment({ app: "other" }),
      }),
      422,
      "Invalid",
    );
    assert.match(
      String(wrong.message),
      /spec.template.metadata.labels: Invalid value: .*`selector` does not match template `labels`/,
    );
    const right = await req("POST", "/apis/apps/v1/namespaces/default/deployments", {
      body: deployment({ app: "web" }),
    });
    assert.equal(right.status, 201, right.text);
    assert.equal((right.json().spec as { replicas: number }).replicas, 1);
  });

  test("leases: create, conflicting update", async () => {
    const path = "/apis/coordination.k8s.io/v1/namespaces/kiln/leases";
    const lease = await req("POST", path, {
      body: {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "kiln-controller" },
        spec: { holderIdentity: "a", leaseDurationSeconds: 15 },
      },
    });
    assert.equal(lease.status, 201, lease.text);
    const body = lease.json();
    const update = (holder: string) =>
      req("PUT", `${path}/kiln-controller`, {
        body: { ...body, spec: { ...(body.spec as object), holderIdentity: holder } },
      });
    assert.equal((await update("b")).status, 200);
    expectStatus(await update("c"), 409, "Conflict");
  });
  test("DELETE answers as kube's: a Status for most kinds, the object for pods, services, service accounts, custom resources and anything still being deleted", async () => {
    const ns = "/api/v1/namespaces/default";
    const create = async (path: string, body: Record<string, unknown>) => {
      const r = await req("POST", path, { body });
      assert.equal(r.status, 201, r.text);
      return r.json().metadata as { uid: string; name: string };
    };
    const del = (path: string, options: Parameters<typeof rawRequest>[3] = {}) =>
      req("DELETE", path, options);
    /** kube's finalizeDelete: Success, details name/group/kind (the resource)/uid, no code. */
    const success = (name: string, kind: string, uid: string, group?: string) => ({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name, ...(group ? { group } : {}), kind, uid },
    });

    // Deleted at once, most kinds: 200 and a Status naming what went.
    const immediate: [
      path: string,
      collection: string,
      body: Record<string, unknown>,
      kind: string,
      group?: string,
    ][] = [
      [`${ns}/configmaps`, "configmaps", { metadata: { name: "del-cm" } }, "configmaps"],
      [`${ns}/secrets`, "secrets", { metadata: { name: "del-secret" } }, "secrets"],
      [
        "/apis/coordination.k8s.io/v1/namespaces/default/leases",
        "leases",
        { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "del-lease" } },
        "leases",
        "coordination.k8s.io",
      ],
      [
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
        "roles",
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "Role",
          metadata: { name: "del-role" },
          rules: [],
        },
        "roles",
        "rbac.authorization.k8s.io",
      ],
    ];
    for (const [path, , body, kind, group] of immediate) {
      const name = (body.metadata as { name: string }).name;
      const { uid } = await create(path, body);
      const r = await del(`${path}/${name}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json(), success(name, kind, uid, group));
      expectStatus(await req("GET", `${path}/${name}`), 404, "NotFound");
    }

    // ReturnDeletedObject kinds answer with the object as it was deleted.
    const returned: [path: string, body: Record<string, unknown>, apiVersion: string, kind: string][] = [
      [`${ns}/pods`, podBody("del-pod"), "v1", "Pod"],
      [`${ns}/services`, { metadata: { name: "del-svc" }, spec: { ports: [{ port: 80 }] } }, "v1", "Service"],
      [`${ns}/serviceaccounts`, { metadata: { name: "del-sa" } }, "v1", "ServiceAccount"],
      [BUILDS, buildBody("del-build"), "kiln.dev/v1alpha1", "Build"],
    ];
    for (const [path, body, apiVersion, kind] of returned) {
      const name = (body.metadata as { name: string }).name;
      const { uid } = await create(path, body);
      const r = await del(`${path}/${name}`);
      assert.equal(r.status, 200, r.text);
      const object = r.json();
      assert.equal(object.kind, kind, r.text);
      assert.equal(object.apiVersion, apiVersion);
      assert.deepEqual(
        [(object.metadata as { name: string }).name, (object.metadata as { uid: string }).uid],
        [name, uid],
      );
      expectStatus(await req("GET", `${path}/${name}`), 404, "NotFound");
    }

    // Still being deleted (a finalizer holds it): 200 and the object, every time it is asked again;
    // 202 only when the (deprecated) orphanDependents=false asked for cascading deletion.
    const held = `${ns}/configmaps/del-held`;
    await create(`${ns}/configmaps`, { metadata: { name: "del-held", finalizers: ["example.dev/hold"] } });
    const first = await del(held);
    assert.equal(first.status, 200, first.text);
    const meta = first.json().metadata as { deletionTimestamp?: string; finalizers: string[] };
    assert.equal(first.json().kind, "ConfigMap");
    assert.ok(meta.deletionTimestamp);
    assert.deepEqual(meta.finalizers, ["example.dev/hold"]);
    const again = await del(held);
    assert.equal(again.status, 200, again.text);
    assert.equal(
      (again.json().metadata as { deletionTimestamp?: string }).deletionTimestamp,
      meta.deletionTimestamp,
    );
    const cascading = await del(held, { body: { orphanDependents: false } });
    assert.equal(cascading.status, 202, cascading.text);
    assert.equal(cascading.json().kind, "ConfigMap");
    await req("PATCH", held, {
      body: { metadata: { finalizers: null } },
      headers: { "content-type": "application/merge-patch+json" },
    });
    await waitFor("the held ConfigMap to go", async () => (await req("GET", held)).status === 404);

    // Foreground: the object waits (foregroundDeletion) for its dependents, so it is what comes back.
    await create(`${ns}/configmaps`, { metadata: { name: "del-fg" } });
    const foreground = await del(`${ns}/configmaps/del-fg`, { body: { propagationPolicy: "Foreground" } });
    assert.equal(foreground.status, 200, foreground.text);
    assert.deepEqual((foreground.json().metadata as { finalizers: string[] }).finalizers, [
      "foregroundDeletion",
    ]);
    await waitFor(
      "the foreground-deleted ConfigMap to go",
      async () => (await req("GET", `${ns}/configmaps/del-fg`)).status === 404,
    );

    // dryRun answers as the real delete would, and deletes nothing.
    const { uid: dryUid } = await create(`${ns}/configmaps`, { metadata: { name: "del-dry" } });
    const dry = await del(`${ns}/configmaps/del-dry?dryRun=All`);
    assert.equal(dry.status, 200, dry.text);
    assert.deepEqual(dry.json(), success("del-dry", "configmaps", dryUid));
    assert.equal((await req("GET", `${ns}/configmaps/del-dry`)).status, 200);

    // Failures: a Status with kube's reason, message and details.
    const missing = expectStatus(await del(`${ns}/configmaps/del-ghost`), 404, "NotFound");
    assert.equal(missing.message, 'configmaps "del-ghost" not found');
    assert.deepEqual(missing.details, { name: "del-ghost", kind: "configmaps" });
    const wrongUid = expectStatus(
      await del(`${ns}/configmaps/del-dry`, { body: { preconditions: { uid: "not-the-uid" } } }),
      409,
      "Conflict",
    );
    assert.equal(
      wrongUid.message,
      `Operation cannot be fulfilled on configmaps "del-dry": Precondition failed: UID in precondition: not-the-uid, UID in object meta: ${dryUid}`,
    );
    assert.deepEqual(wrongUid.details, { name: "del-dry", kind: "configmaps" });
    const gone = await del(`${ns}/configmaps/del-dry`, { body: { preconditions: { uid: dryUid } } });
    assert.deepEqual(gone.json(), success("del-dry", "configmaps", dryUid));
  });
});
