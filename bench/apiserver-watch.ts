// What a write costs the test API server as the store grows: an update of one Build with live watches
// (label-selected, as controllers use them) in a store of 100 vs 10,000 Builds — the ratio shows a write
// is not O(objects). Then a LIST of 10,000 Builds over HTTPS against JSON.stringify of the same items.
import { request } from "node:https";
import type { KubeObject } from "../stand-ins/apiserver/storage.ts";
import { startTestCluster } from "../stand-ins/cluster/start.ts";
import { buildBody } from "../test/conformance/helpers.ts";

const cluster = await startTestCluster({ server: { historySize: 1000 } });
const { objects, registry, store } = cluster.server;
const builds = registry.find("kiln.dev", "v1alpha1", "builds")!;

function fill(count: number, prefix: string): void {
  for (let i = 0; i < count; i++) {
    objects.create(
      builds,
      "kiln",
      buildBody(`${prefix}-${i}`, { labels: { "kiln.dev/repository": `repo-${i % 20}` } }),
    );
  }
}

function watchers(count: number): () => void {
  const c = store.collection(builds.collection);
  const added = Array.from({ length: count }, (_, i) => {
    const w = {
      matches: (o: KubeObject) => o.metadata.labels?.["kiln.dev/repository"] === `repo-${i}`,
      send: () => {},
    };
    c.watchers.add(w);
    return w;
  });
  return () => {
    for (const w of added) c.watchers.delete(w);
  };
}

function perUpdate(label: string, name: string, n: number): number {
  const run = (count: number) => {
    for (let i = 0; i < count; i++) {
      const current = objects.get(builds, "kiln", name);
      objects.update(builds, "kiln", name, {
        ...current,
        metadata: { ...current.metadata, annotations: { n: String(i) } },
      });
    }
  };
  run(500);
  const start = process.hrtime.bigint();
  run(n);
  const ns = Number(process.hrtime.bigint() - start) / n;
  console.log(`${label.padEnd(52)} ${(ns / 1000).toFixed(1)} µs/update`);
  return ns;
}

const stop = watchers(10);
fill(100, "small");
const small = perUpdate("update with 10 watches, 100 Builds stored", "small-0", 5000);
fill(9900, "big");
const big = perUpdate("update with 10 watches, 10,000 Builds stored", "small-0", 5000);
console.log(
  `write cost ratio 10,000 vs 100 stored: ${(big / small).toFixed(2)}x (1x = independent of store size)`,
);
stop();

function get(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(
      new URL(path, cluster.url),
      { ca: cluster.server.caPem, headers: { authorization: `Bearer ${cluster.server.adminToken}` } },
      (res) => {
        res.on("data", () => {});
        res.on("end", () => resolve(Number(process.hrtime.bigint() - started)));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const path = "/apis/kiln.dev/v1alpha1/namespaces/kiln/builds";
await get(path);
const lists: number[] = [];
for (let i = 0; i < 5; i++) lists.push(await get(path));
const list = Math.min(...lists);
const items = store.collection(builds.collection).list("kiln");
const t0 = process.hrtime.bigint();
for (let i = 0; i < 5; i++) JSON.stringify({ items });
const stringify = Number(process.hrtime.bigint() - t0) / 5;
console.log(`${"LIST of 10,000 Builds over HTTPS".padEnd(52)} ${(list / 1e6).toFixed(1)} ms`);
console.log(`${"JSON.stringify of the same 10,000 Builds".padEnd(52)} ${(stringify / 1e6).toFixed(1)} ms`);
console.log(`list ratio: ${(list / stringify).toFixed(1)}x the bare serialization`);
await cluster.stop();
