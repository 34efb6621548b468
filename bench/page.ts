// Build page bench: the list page of a repository with 10,000 Builds, as HTML against its JSON twin (the
// same view serialised), time to first byte through the real `kiln webhook` (its Build informer listing
// and watching the test API server, koa, the page routes), several rounds of interleaved requests; then
// page 1 against page 200 (the last) to show a page is a slice whatever its place, and a filtered page
// (one pass over the list) for scale. Medians and ranges of the rounds' medians.
//   node bench/page.ts [--builds 10000] [--rounds 7] [--requests 100]
import { Agent, request } from "node:http";
import { parseArgs } from "node:util";
import { startTestCluster } from "../stand-ins/cluster/start.ts";
import { webhookConfig } from "../webhook/config.ts";
import { startWebhook } from "../webhook/main.ts";

const { values } = parseArgs({
  options: {
    builds: { type: "string", default: "10000" },
    rounds: { type: "string", default: "7" },
    requests: { type: "string", default: "100" },
  },
});
const count = Number(values.builds);
const rounds = Number(values.rounds);
const perRound = Number(values.requests);
const NS = "ci";
const SHA = "4f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39";
const PHASES = [
  "Succeeded",
  "Succeeded",
  "Succeeded",
  "Failed",
  "Succeeded",
  "Errored",
  "Succeeded",
  "Cancelled",
];

const cluster = await startTestCluster();
const { objects, registry } = cluster.server;
const builds = registry.find("kiln.dev", "v1alpha1", "builds")!;
const namespaces = registry.find("", "v1", "namespaces")!;
objects.create(namespaces, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
const fillStarted = performance.now();
for (let i = 0; i < count; i++) {
  const name = `app-${String(i).padStart(5, "0")}`;
  const { object } = objects.create(builds, NS, {
    apiVersion: "kiln.dev/v1alpha1",
    kind: "Build",
    metadata: { name, labels: { "kiln.dev/repository": "app" } },
    spec: {
      repository: "app",
      revision: {
        sha: SHA,
        ref: "refs/heads/main",
        branch: i % 5 === 0 ? "dev" : "main",
        message: `Change number ${i}: make the thing <faster>`,
        author: "A. Developer",
      },
      trigger: { event: "push" },
    },
  });
  const phase = PHASES[i % PHASES.length]!;
  objects.update(
    builds,
    NS,
    name,
    {
      ...object,
      status: {
        phase,
        startTime: "2026-01-01T00:00:00Z",
        completionTime: "2026-01-01T00:02:03Z",
        duration: "2m3s",
        steps: [
          { name: "install", phase: "Succeeded", exitCode: 0 },
          {
            name: "test",
            phase: phase === "Failed" ? "Failed" : "Succeeded",
            exitCode: phase === "Failed" ? 1 : 0,
          },
        ],
      },
    },
    { subresource: "status" },
  );
}
console.log(`${count} Builds stored in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);

const webhook = await startWebhook(
  webhookConfig.parse({ kubeconfig: cluster.kubeconfigPath, host: "127.0.0.1", port: 0, logLevel: "silent" }),
);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** Milliseconds to the answer's headers (koa sends them with the body, so rendering is inside) and to its end. */
function timed(
  path: string,
  accept = "text/html",
): Promise<{ ttfb: number; total: number; bytes: number; status: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(`${webhook.url}${path}`, { agent, headers: { accept } }, (res) => {
      const ttfb = performance.now() - started;
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () =>
        resolve({ ttfb, total: performance.now() - started, bytes, status: res.statusCode ?? 0 }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

const listSynced = performance.now();
for (;;) {
  const r = await timed(`/repositories/${NS}/app?format=json`);
  if (r.status === 200) {
    const body = await fetch(`${webhook.url}/repositories/${NS}/app?format=json`).then((x) => x.json());
    if ((body as { total: number }).total === count) break;
  }
  await new Promise((r) => setTimeout(r, 50));
}
console.log(
  `the webhook's Build informer listed them in ${((performance.now() - listSynced) / 1000).toFixed(1)} s`,
);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (x: number) => x.toFixed(3);

const cases = {
  html1: { path: `/repositories/${NS}/app`, accept: "text/html" },
  json1: { path: `/repositories/${NS}/app`, accept: "application/json" },
  html200: { path: `/repositories/${NS}/app?page=${Math.ceil(count / 50)}`, accept: "text/html" },
  filtered: { path: `/repositories/${NS}/app?phase=Cancelled&page=20`, accept: "text/html" },
  build: { path: `/builds/${NS}/app-${String(Math.floor(count / 2)).padStart(5, "0")}`, accept: "text/html" },
} as const;
type Case = keyof typeof cases;
for (const c of Object.values(cases)) for (let i = 0; i < 30; i++) await timed(c.path, c.accept); // warm up

const perCase: Record<Case, number[]> = { html1: [], json1: [], html200: [], filtered: [], build: [] };
const sizes: Partial<Record<Case, number>> = {};
for (let round = 0; round < rounds; round++) {
  const samples: Record<Case, number[]> = { html1: [], json1: [], html200: [], filtered: [], build: [] };
  for (let i = 0; i < perRound; i++) {
    // Interleaved, so a disturbance on the machine falls on every case alike.
    for (const name of Object.keys(cases) as Case[]) {
      const r = await timed(cases[name].path, cases[name].accept);
      if (r.status !== 200) throw new Error(`${cases[name].path}: ${r.status}`);
      samples[name].push(r.ttfb);
      sizes[name] = r.bytes;
    }
  }
  for (const name of Object.keys(cases) as Case[]) perCase[name].push(median(samples[name]));
  console.log(
    `round ${round + 1}: TTFB p50 ms  html p1 ${fmt(median(samples.html1))}  json p1 ${fmt(median(samples.json1))}  ` +
      `html p200 ${fmt(median(samples.html200))}  filtered ${fmt(median(samples.filtered))}  build ${fmt(median(samples.build))}`,
  );
}

const ratio = (a: Case, b: Case) => perCase[a].map((x, i) => x / perCase[b][i]!);
const summary = (xs: number[]) =>
  `median ${median(xs).toFixed(2)} (range ${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
console.log("");
console.log(`answers: html ${sizes.html1} bytes, json ${sizes.json1} bytes, build page ${sizes.build} bytes`);
for (const name of Object.keys(cases) as Case[])
  console.log(`${name.padEnd(9)} TTFB p50 per round: ${summary(perCase[name])} ms`);
console.log(`HTML / JSON, page 1:        ${summary(ratio("html1", "json1"))}`);
console.log(`page 200 / page 1, HTML:    ${summary(ratio("html200", "html1"))}`);
console.log(`filtered (page 20 of Cancelled) / page 1: ${summary(ratio("filtered", "html1"))}`);

agent.destroy();
await webhook.close();
await cluster.stop();
