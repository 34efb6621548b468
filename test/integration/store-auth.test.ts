// Every request to the store is authorised, with real tokens of the test API server and the store running
// under its install RBAC only (store-harness.ts): a build pod's projected token (audience kiln-store,
// bound to its pod) may append its own Build's logs and use its repository's caches — a fork's only read
// them; a reader needs `get builds/log`; anything else is 401 or 403 and stores nothing. Tokens never
// reach the store's log.
import assert from "node:assert/strict";
import { mkdtemp, readdir } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { STORE_AUDIENCE } from "../../api/store-protocol.ts";
import { resourcePath } from "../../lib/kube.ts";
import { createLogger } from "../../lib/log.ts";
import { StoreClient } from "../../lib/store-client.ts";
import type { RunningStore } from "../../store/main.ts";
import { buildPod, readerToken, runStore, type StoreWorld, startWorld } from "./store-harness.ts";

let world: StoreWorld;
let store: RunningStore;
let dir: string;
const logLines: string[] = [];

before(async () => {
  world = await startWorld();
  dir = await mkdtemp(join(world.scratch, "auth-"));
  const destination = new PassThrough();
  destination.on("data", (line: Buffer) => logLines.push(line.toString()));
  store = await runStore(world, { kind: "files", dir }, [], {
    log: createLogger("store", { level: "debug", destination }),
  });
});
after(async () => {
  await store?.close();
  await world?.stop();
});

const clientOf = (token: string) => new StoreClient({ url: store.url, token: () => token, retries: 0 });

async function put(token: string | undefined, path: string, body = "x"): Promise<number> {
  const res = await fetch(`${store.url}${path}`, {
    method: "PUT",
    body,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  await res.arrayBuffer();
  return res.status;
}

/** Every file the store keeps (its temporary directory aside). */
async function stored(): Promise<string[]> {
  const all = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
  return all.filter((p) => !p.startsWith(".tmp"));
}

describe("who may do what", () => {
  test("no token, a malformed or unknown one: 401, and nothing stored", async () => {
    const path = "/v1/logs/team-a/x/s?offset=0";
    assert.equal(await put(undefined, path), 401);
    assert.equal(await put("", path), 401);
    assert.equal(await put("not-a-token", path), 401);
    const forged = (
      await buildPod(world, { namespace: "team-a", build: "forged", branch: "main" })
    ).token.slice(0, -4);
    assert.equal(await put(`${forged}AAAA`, path), 401);
    const res = await fetch(`${store.url}${path}`, { method: "PUT", body: "x" });
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="kiln-store"');
    assert.deepEqual(await stored(), []);
  });

  test("a build pod's token appends its own Build's logs, and no other Build's", async () => {
    const own = await buildPod(world, { namespace: "team-a", build: "mine", branch: "main" });
    await buildPod(world, { namespace: "team-a", build: "theirs", branch: "main" });
    assert.equal(await put(own.token, "/v1/logs/team-a/mine/s?offset=0", "mine\n"), 200);
    assert.equal(await put(own.token, "/v1/logs/team-a/theirs/s?offset=0", "not mine\n"), 403);
    await buildPod(world, { namespace: "team-b", build: "mine", branch: "main" });
    assert.equal(await put(own.token, "/v1/logs/team-b/mine/s?offset=0", "same name elsewhere\n"), 403);
    // The chunk, and the Build's record (its repository), written with its first append.
    assert.deepEqual((await stored()).toSorted(), [
      "logs/team-a/mine/.kiln/build",
      "logs/team-a/mine/s/chunk-0000000000000000-0000000000000005",
    ]);
    // It reads its own log; not another's.
    assert.ok(await clientOf(own.token).readLog({ namespace: "team-a", build: "mine", step: "s" }));
    await assert.rejects(
      clientOf(own.token).readLog({ namespace: "team-a", build: "theirs", step: "s" }),
      /403/,
    );
  });

  test("the agent's token for another audience (the API server's) is not a store token: 401", async () => {
    const { token } = await buildPod(world, {
      namespace: "team-a",
      build: "wrong-audience",
      branch: "main",
      audience: "https://kubernetes.default.svc.cluster.local",
    });
    assert.equal(await put(token, "/v1/logs/team-a/wrong-audience/s?offset=0"), 401);
  });

  test("a token bound to a pod that is gone: 401", async () => {
    const { token } = await buildPod(world, { namespace: "team-a", build: "gone", branch: "main" });
    await world.admin.delete(resourcePath("v1", "pods", "team-a", "gone-pod"));
    assert.equal(await put(token, "/v1/logs/team-a/gone/s?offset=0"), 401);
  });

  test("a pod of another account, or one no Build owns, gets nothing", async () => {
    // Another ServiceAccount's token is a reader's: readers never append.
    const other = await buildPod(world, {
      namespace: "team-a",
      build: "other-sa",
      branch: "main",
      account: "deployer",
    });
    assert.equal(await put(other.token, "/v1/logs/team-a/other-sa/s?offset=0"), 403);
    // A pod that names a Build in its label but is not owned by it.
    await world.admin.create(resourcePath("v1", "pods", "team-a"), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "impostor", labels: { "kiln.dev/build": "mine" } },
      spec: { serviceAccountName: "kiln-build", containers: [{ name: "c", image: "busybox:1.36" }] },
    });
    const pod = await world.admin.get<{ metadata: { uid: string } }>(
      resourcePath("v1", "pods", "team-a", "impostor"),
    );
    const impostor = await world.admin.create<{ status: { token: string } }>(
      `${resourcePath("v1", "serviceaccounts", "team-a", "kiln-build")}/token`,
      {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {
          audiences: [STORE_AUDIENCE],
          expirationSeconds: 3600,
          boundObjectRef: { apiVersion: "v1", kind: "Pod", name: "impostor", uid: pod.metadata.uid },
        },
      },
    );
    assert.equal(await put(impostor.status.token, "/v1/logs/team-a/mine/s?offset=5", "impostor\n"), 403);
    assert.deepEqual((await stored()).toSorted(), [
      "logs/team-a/mine/.kiln/build",
      "logs/team-a/mine/s/chunk-0000000000000000-0000000000000005",
    ]);
  });

  test("readers: with get builds/log they read (its namespace only); without it, or to write, 403", async () => {
    const allowed = clientOf(await readerToken(world, "team-a", true));
    const refused = clientOf(await readerToken(world, "team-a", false));
    const ref = { namespace: "team-a", build: "mine", step: "s" };
    assert.ok(await allowed.readLog(ref));
    assert.equal((await allowed.steps({ namespace: "team-a", build: "mine" })).length, 1);
    await assert.rejects(refused.readLog(ref), /403 .*may not get builds\/log of team-a\/mine/);
    await assert.rejects(allowed.readLog({ ...ref, namespace: "team-b" }), /403/);
    await assert.rejects(allowed.append(ref, 5, Buffer.from("reader\n")), /403/);
    await assert.rejects(
      allowed.restoreCache({ namespace: "team-a", repository: "app" }, { key: "k", branches: ["main"] }),
      /403/,
    );
  });

  test("caches: a build saves its repository's; a fork's and a tag's build only read them; nothing else", async () => {
    const main = clientOf(
      (await buildPod(world, { namespace: "team-a", build: "saver", branch: "main" })).token,
    );
    const fork = clientOf(
      (await buildPod(world, { namespace: "team-a", build: "fork-pr", branch: "main", fork: true })).token,
    );
    const tag = clientOf(
      (await buildPod(world, { namespace: "team-a", build: "release", repository: "app" })).token,
    );
    const other = clientOf(
      (await buildPod(world, { namespace: "team-a", build: "lib-1", repository: "lib", branch: "main" }))
        .token,
    );
    const repo = { namespace: "team-a", repository: "app" };
    await main.saveCache({ ...repo, key: "npm-1" }, Readable.from([Buffer.from("trusted")]));
    // The fork's upload is refused before its body is sent (Expect: 100-continue): a large one costs nothing.
    let pulled = 0;
    const poisoned = Readable.from(
      (async function* () {
        for (let i = 0; i < 100; i++) {
          pulled++;
          yield Buffer.alloc(64 * 1024, 1);
        }
      })(),
    );
    await assert.rejects(
      fork.saveCache({ ...repo, key: "npm-1" }, poisoned),
      /403 builds of forks read caches and never write them/,
    );
    assert.ok(pulled <= 2, `the refused upload was read ${pulled} chunks far`);
    await assert.rejects(
      tag.saveCache({ ...repo, key: "npm-1" }, Readable.from([Buffer.from("x")])),
      /403 a build of a tag/,
    );
    await assert.rejects(
      other.saveCache({ ...repo, key: "npm-1" }, Readable.from([Buffer.from("x")])),
      /403/,
    );
    for (const reader of [fork, tag]) {
      const hit = await reader.restoreCache(repo, { key: "npm-1", branches: ["main"] });
      const chunks: Buffer[] = [];
      for await (const c of hit!.body) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), "trusted");
    }
    await assert.rejects(other.restoreCache(repo, { key: "npm-1", branches: ["main"] }), /403/);
    const caches = (await stored()).filter((p) => p.startsWith("caches/"));
    assert.deepEqual(caches.sort(), [
      "caches/team-a/app/main/npm-1/archive",
      "caches/team-a/app/main/npm-1/used",
    ]);
  });

  test("the store's log never holds a token", () => {
    assert.ok(
      logLines.some((line) => /request refused/.test(line)),
      "refusals are logged",
    );
    const tokens = logLines.join("").match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g) ?? [];
    assert.deepEqual(tokens, []);
    assert.ok(!logLines.join("").includes("not-a-token"));
  });
});
