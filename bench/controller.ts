// Build controller latency and memory, with and without history, and a burst against a bare client.
//
//   node bench/controller.ts [--builds 200] [--history 10000] [--rounds 3] [--burst 500] [--workers 16]
//
// The test API server runs in this process; the controller runs as its own process (`kiln controller
// --controllers build`), so its memory is its own. Build-created → Pod-created is measured inside the
// server's store (both ADDED events), so client round trips do not blur it.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build as buildSchema } from "../api/build.ts";
import { API_VERSION } from "../api/group.ts";
import { repository as repositorySchema } from "../api/repository.ts";
import { buildPod } from "../controllers/build/build-pod.ts";
import { controllerConfig } from "../controllers/config.ts";
import { KubeClient, resourcePath } from "../lib/kube.ts";
import type { KubeObject } from "../stand-ins/apiserver/storage.ts";
import { startTestCluster, type TestCluster } from "../stand-ins/cluster/start.ts";
import { waitFor } from "../test/wait-for.ts";

const { values } = parseArgs({
  options: {
    builds: { type: "string", default: "200" },
    history: { type: "string", default: "10000" },
    burst: { type: "string", default: "500" },
    workers: { type: "string", default: "16" },
    rounds: { type: "string", default: "3" },
  },
});
const BUILDS = Number(values.builds);
const HISTORY = Number(values.history);
const BURST = Number(values.burst);
const WORKERS = values.workers!;
const ROUNDS = Number(values.rounds);
const KILN = resolve(import.meta.dirname, "../bin/kiln.ts");
const NS = "default";
const SHA_REPO = mkdtempSync(join(tmpdir(), "kiln-bench-repo-"));

function gitRepo(): { url: string; sha: string } {
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", SHA_REPO, ...args], { encoding: "utf8" }).trim();
  execFileSync("git", ["init", "-q", "-b", "main", SHA_REPO]);
  git("config", "user.email", "bench@example.com");
  git("config", "user.name", "bench");
  writeFileSync(join(SHA_REPO, ".kiln.yaml"), "image: node:24\nsteps:\n  - {name: test, run: 'true'}\n");
  git("add", "-A");
  git("commit", "-q", "-m", "bench");
  return { url: `file://${SHA_REPO}`, sha: git("rev-parse", "HEAD") };
}
const { url, sha } = gitRepo();

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/** Calls back with the time of every ADDED object in a collection of the in-process server. */
function onAdded(
  cluster: TestCluster,
  group: string,
  version: string,
  plural: string,
  fn: (o: KubeObject, t: number) => void,
) {
  const type = cluster.server.registry.find(group, version, plural)!;
  const c = cluster.server.store.collection(type.collection);
  const w = {
    matches: () => true,
    send: (event: string, o: KubeObject) => event === "ADDED" && fn(o, performance.now()),
  };
  c.watchers.add(w);
  return () => c.watchers.delete(w);
}

async function setUp(repos: number) {
  const cluster = await startTestCluster();
  const client = new KubeClient(cluster.kubeConfig);
  await client.create(resourcePath("v1", "serviceaccounts", NS), {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "kiln-build", namespace: NS },
  });
  for (let r = 0; r < repos; r++) {
    await client.create(resourcePath(API_VERSION, "repositories", NS), {
      apiVersion: API_VERSION,
      kind: "Repository",
      metadata: { name: `repo-${r}`, namespace: NS },
      spec: {
        github: { owner: "bench", name: `repo-${r}` },
        cloneURL: url,
        concurrency: 100,
        cancelSuperseded: false,
        history: { keep: 1_000_000 },
      },
    });
  }
  return { cluster, client };
}

function buildBody(name: string, repo: string) {
  return {
    apiVersion: API_VERSION,
    kind: "Build",
    metadata: { name, namespace: NS, labels: { "kiln.dev/repository": repo } },
    spec: {
      repository: repo,
      revision: { sha, ref: `refs/heads/${name}`, branch: name },
      trigger: { event: "manual" },
    },
  };
}

/** 10,000 finished Builds written straight into the store (with status), as months of history. */
function seedHistory(cluster: TestCluster, count: number, repos: number) {
  const { objects, registry } = cluster.server;
  const builds = registry.find("kiln.dev", "v1alpha1", "builds")!;
  for (let i = 0; i < count; i++) {
    const name = `old-${i}`;
    const created = objects.create(builds, NS, buildBody(name, `repo-${i % repos}`) as KubeObject).object;
    objects.update(
      builds,
      NS,
      name,
      {
        ...created,
        status: {
          phase: "Succeeded",
          podName: `${name}-pod`,
          startTime: "2026-01-01T00:00:00Z",
          completionTime: "2026-01-01T00:01:00Z",
          duration: "1m00s",
          steps: [{ name: "test", phase: "Succeeded", exitCode: 0 }],
        },
      } as KubeObject,
      { subresource: "status" },
    );
  }
}

async function startController(cluster: TestCluster): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_CONTROLLER_PROFILE
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CONTROLLER_PROFILE}`]
        : []),
      KILN,
      "controller",
      "--controllers",
      "build",
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--namespace",
      NS,
      "--no-leader-elect",
      // Build pods name Kiln's image; outside a pod the controller cannot read its own.
      "--image",
      "localhost/kiln:dev",
      "--metrics-host",
      "127.0.0.1",
      "--metrics-port",
      String(port),
      "--workers",
      WORKERS,
      "--log-level",
      "error",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  await waitFor(
    "the controller to be ready",
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
    60_000,
  );
  return { child, port };
}

async function memory(port: number): Promise<{ rss: number; heap: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  return { rss: metric("process_resident_memory_bytes"), heap: metric("nodejs_heap_size_used_bytes") };
}

async function stopController(child: ChildProcess) {
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}

/** Creates n Builds one at a time (a steady stream, not a burst) and measures Build → Pod latency. */
async function latency(label: string, history: number) {
  const repos = 10;
  const { cluster, client } = await setUp(repos);
  if (history > 0) seedHistory(cluster, history, repos);
  const created = new Map<string, number>();
  const latencies: number[] = [];
  const t0 = performance.now();
  const stops = [
    onAdded(cluster, "kiln.dev", "v1alpha1", "builds", (o, t) => created.set(o.metadata.name!, t)),
    onAdded(cluster, "", "v1", "pods", (o, t) => {
      const build = o.metadata.labels?.["kiln.dev/build"];
      const t0 = build ? created.get(build) : undefined;
      if (t0 !== undefined) latencies.push(t - t0);
    }),
  ];
  const { child, port } = await startController(cluster);
  const startedAt = performance.now();
  // The first Build of a commit reads its .kiln.yaml (a git fetch here); measured apart, then cached.
  await client.create(resourcePath(API_VERSION, "builds", NS), buildBody("warm-up", "repo-0"));
  while (latencies.length < 1) await new Promise((r) => setTimeout(r, 5));
  const cold = latencies.pop()!;
  const before = await memory(port);
  for (let i = 0; i < BUILDS; i++) {
    await client.create(resourcePath(API_VERSION, "builds", NS), buildBody(`new-${i}`, `repo-${i % repos}`));
    await new Promise((r) => setTimeout(r, 20));
  }
  const end = Date.now() + 30_000;
  while (latencies.length < BUILDS && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  const after = await memory(port);
  await stopController(child);
  for (const s of stops) s();
  client.close();
  await cluster.stop();
  if (latencies.length < BUILDS)
    throw new Error(`${label}: only ${latencies.length} of ${BUILDS} pods appeared`);
  const result = { p50: percentile(latencies, 50), p99: percentile(latencies, 99), before, after };
  console.log(
    `${label.padEnd(24)} p50 ${result.p50.toFixed(1)} ms  p99 ${result.p99.toFixed(1)} ms  ` +
      `(first build of the commit ${cold.toFixed(0)} ms)  heap ${(after.heap / 2 ** 20).toFixed(1)} MiB  ` +
      `rss ${(after.rss / 2 ** 20).toFixed(1)} MiB  (ready after ${(startedAt - t0).toFixed(0)} ms)`,
  );
  return result;
}

/** n Builds created at once: time until the last pod exists; then a bare client creating the same pods. */
async function burst() {
  const repos = Math.ceil(BURST / 100);
  const { cluster, client } = await setUp(repos);
  let last = 0;
  let pods = 0;
  let first = 0;
  let lastBuild = 0;
  const stopBuilds = onAdded(cluster, "kiln.dev", "v1alpha1", "builds", (_o, t) => {
    lastBuild = t;
  });
  const stop = onAdded(cluster, "", "v1", "pods", (_o, t) => {
    if (pods === 0) first = t;
    pods++;
    last = t;
  });
  const { child, port } = await startController(cluster);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: BURST }, (_, i) =>
      client.create(resourcePath(API_VERSION, "builds", NS), buildBody(`burst-${i}`, `repo-${i % repos}`)),
    ),
  );
  const end = Date.now() + 120_000;
  while (pods < BURST && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  const controllerMs = last - start;
  const firstPodMs = first - start;
  const buildsMs = lastBuild - start;
  stopBuilds();
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const reconciles = [
    ...metrics.matchAll(/^kiln_reconcile_total\{controller="build",result="(\w+)"\} (\d+)/gm),
  ]
    .map((m) => `${m[1]} ${m[2]}`)
    .join(", ");
  const seconds = /^kiln_reconcile_duration_seconds_sum\{controller="build"\} (\S+)/m.exec(metrics)?.[1];
  console.log(
    `burst: last Build stored after ${buildsMs.toFixed(0)} ms; first pod after ${firstPodMs.toFixed(0)} ms ` +
      "(includes reading .kiln.yaml at the commit once); " +
      `reconciles ${reconciles}; time in reconcile ${Number(seconds).toFixed(2)} s`,
  );
  await stopController(child);
  if (pods < BURST) throw new Error(`burst: only ${pods} of ${BURST} pods appeared`);

  // The baseline: the same pod manifests, created at once by a bare client in the same server.
  const config = controllerConfig.parse({
    image: "localhost/kiln:dev",
    leaderElection: { identity: "bench" },
  }) as ReturnType<typeof controllerConfig.parse> & { image: string };
  const repo = repositorySchema.parse({
    apiVersion: API_VERSION,
    kind: "Repository",
    metadata: { name: "repo-0", namespace: NS },
    spec: { github: { owner: "bench", name: "repo-0" }, cloneURL: url },
  });
  const manifests = Array.from({ length: BURST }, (_, i) =>
    buildPod(
      buildSchema.parse({
        ...buildBody(`bare-${i}`, "repo-0"),
        metadata: { name: `bare-${i}`, namespace: NS, uid: `uid-${i}` },
      }),
      repo,
      { image: "node:24", services: [] },
      config,
    ),
  );
  pods = 0;
  const bareStart = performance.now();
  await Promise.all(manifests.map((m) => client.create(resourcePath("v1", "pods", NS), m)));
  while (pods < BURST) await new Promise((r) => setTimeout(r, 5));
  const bareMs = last - bareStart;

  // A fairer floor: a bare client making the same writes the controller path makes — the Build, its pod,
  // the status patch — with no reading, deciding or waiting on watches.
  pods = 0;
  const sameStart = performance.now();
  await Promise.all(
    manifests.map(async (m, i) => {
      const name = `same-${i}`;
      await client.create(resourcePath(API_VERSION, "builds", NS), buildBody(name, "repo-0"));
      await client.create(resourcePath("v1", "pods", NS), {
        ...m,
        metadata: { ...m.metadata, name: `${name}-pod` },
      });
      await client.mergePatch(`${resourcePath(API_VERSION, "builds", NS, name)}/status`, {
        status: { phase: "Pending", podName: `${name}-pod`, startTime: new Date().toISOString() },
      });
    }),
  );
  while (pods < BURST) await new Promise((r) => setTimeout(r, 5));
  const sameMs = last - sameStart;
  stop();
  client.close();
  await cluster.stop();
  console.log(
    `burst of ${BURST}: controller ${controllerMs.toFixed(0)} ms to the last pod; bare client creating the pods ` +
      `${bareMs.toFixed(0)} ms (ratio ${(controllerMs / bareMs).toFixed(2)}x); bare client making the same writes ` +
      `(Build, pod, status) ${sameMs.toFixed(0)} ms (ratio ${(controllerMs / sameMs).toFixed(2)}x)`,
  );
  return { controllerMs, bareMs, sameMs };
}

try {
  if (BUILDS > 0) await latencies();
  if (BURST > 0) await burst();
} finally {
  rmSync(SHA_REPO, { recursive: true, force: true });
}

/** Alternates the two stores for a few rounds (the machine is shared: single runs are noisy) and compares medians. */
async function latencies() {
  const empty: Awaited<ReturnType<typeof latency>>[] = [];
  const full: Awaited<ReturnType<typeof latency>>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    empty.push(await latency("empty store", 0));
    full.push(await latency(`${HISTORY.toLocaleString("en")} finished Builds`, HISTORY));
  }
  const med = (xs: number[]) => percentile(xs, 50);
  const m = (rs: typeof empty) => ({
    p50: med(rs.map((r) => r.p50)),
    p99: med(rs.map((r) => r.p99)),
    heap: med(rs.map((r) => r.after.heap)),
    rss: med(rs.map((r) => r.after.rss)),
  });
  const e = m(empty);
  const f = m(full);
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  console.log(`medians of ${ROUNDS} rounds of ${BUILDS} Builds:`);
  console.log(
    `  empty store:    p50 ${e.p50.toFixed(1)} ms  p99 ${e.p99.toFixed(1)} ms  heap ${mib(e.heap)}  rss ${mib(e.rss)}`,
  );
  console.log(
    `  ${HISTORY} stored: p50 ${f.p50.toFixed(1)} ms  p99 ${f.p99.toFixed(1)} ms  heap ${mib(f.heap)}  rss ${mib(f.rss)}`,
  );
  console.log(
    `  ratio: p50 ${(f.p50 / e.p50).toFixed(2)}x  p99 ${(f.p99 / e.p99).toFixed(2)}x  ` +
      `heap ${(f.heap / e.heap).toFixed(2)}x  rss ${(f.rss / e.rss).toFixed(2)}x`,
  );
}
