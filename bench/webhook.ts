// Webhook bench: verified deliveries per second on loopback, Kiln's koa app against a bare node:http
// server doing the same work (read the body, HMAC, parse), measured in the same run. The servers run on
// core 0, autocannon on core 1 (taskset). Build creation excluded (no-op sink) and included (the test API
// server in its own process, unpinned).
//   node bench/webhook.ts [--duration 5] [--rounds 5] [--warmup 5] [--connections 16] [--skip-kube]
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import examples from "@octokit/webhooks-examples" with { type: "json" };
import { sign } from "@octokit/webhooks-methods";
import { createRepository } from "../test/fakes/kube-repository.ts";
import { waitFor } from "../test/wait-for.ts";
import { BENCH_REPOSITORY, BENCH_SECRET } from "./webhook-fixture.ts";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "16" },
    rounds: { type: "string", default: "5" },
    warmup: { type: "string", default: "5" },
    "skip-kube": { type: "boolean", default: false },
  },
});
const root = join(import.meta.dirname, "..");
const node = process.execPath;

interface Result {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  cpuMicros?: number;
}

function pinned(core: number, args: string[]): ChildProcess {
  return spawn("taskset", ["-c", String(core), node, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
}

async function firstLine(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<RegExpMatchArray> {
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill(), timeoutMs);
  try {
    for await (const line of lines) {
      const match = pattern.exec(line);
      if (match) return match;
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`process exited before printing ${pattern}`);
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function load(
  url: string,
  bodyFile: string,
  signature: string,
  duration: string,
  run: string,
): Promise<Result> {
  const child = pinned(1, [
    "bench/webhook-load.ts",
    `--url=${url}`,
    `--body=${bodyFile}`,
    `--signature=${signature}`,
    `--duration=${duration}`,
    `--connections=${values.connections}`,
    `--run=${run}`,
  ]);
  const [line] = await firstLine(child, /^\{.*\}$/, (Number(duration) + 30) * 1000);
  await once(child, "exit");
  return JSON.parse(line) as Result;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** user + system CPU of a process, in clock ticks (taskset execs node, so the pid is the server's). */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

async function measure(
  variant: string,
  sink: string,
  kubeconfig: string | undefined,
  bodyFile: string,
  signature: string,
  run: string,
) {
  const server = pinned(0, [
    "bench/webhook-server.ts",
    `--variant=${variant}`,
    `--sink=${sink}`,
    ...(kubeconfig ? [`--kubeconfig=${kubeconfig}`] : []),
  ]);
  try {
    const [, port] = await firstLine(server, /^READY (\d+)$/);
    const url = `http://127.0.0.1:${port}/hooks/github`;
    await load(url, bodyFile, signature, values.warmup, `${run}-warmup`);
    const before = await cpuTicks(server.pid!);
    const result = await load(url, bodyFile, signature, values.duration, run);
    const ticks = (await cpuTicks(server.pid!)) - before;
    // CPU the server spent per accepted delivery: steadier than rates on a shared machine, and not capped
    // by what one core of autocannon can send.
    return { ...result, cpuMicros: (ticks * 1e6) / TICKS_PER_SECOND / Math.max(result.ok, 1) };
  } finally {
    server.kill("SIGKILL");
  }
}

async function startApiServer(dir: string): Promise<{ kubeconfig: string; stop(): void }> {
  const kubeconfig = join(dir, "kubeconfig");
  const port = await freePort();
  const child = spawn(node, ["stand-ins/cluster/main.ts", `--port=${port}`, `--kubeconfig=${kubeconfig}`], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const kc = new KubeConfig();
  await waitFor(
    "the test API server",
    async () => {
      kc.loadFromFile(kubeconfig);
      await kc.makeApiClient(CoreV1Api).listNamespace();
      return true;
    },
    30_000,
  );
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: "default",
    body: { metadata: { name: "hello-webhook" }, stringData: { secret: BENCH_SECRET } },
  });
  await createRepository(kc, "hello", BENCH_REPOSITORY.spec);
  return { kubeconfig, stop: () => child.kill("SIGTERM") };
}

const push = (examples as unknown as Array<{ name: string; examples: Array<{ ref?: string }> }>)
  .find((e) => e.name === "push")!
  .examples.find((p) => p.ref === "refs/heads/master")!;
const dir = await mkdtemp(join(tmpdir(), "kiln-bench-webhook-"));
const bodyFile = join(dir, "push.json");
const body = JSON.stringify(push);
await writeFile(bodyFile, body);
const signature = await sign(BENCH_SECRET, body);
const rows: Array<{ sink: string; variant: string; round: number } & Result> = [];
let api: Awaited<ReturnType<typeof startApiServer>> | undefined;
try {
  const sinks = values["skip-kube"] ? ["noop"] : ["noop", "kube"];
  for (const sink of sinks) {
    if (sink === "kube") api = await startApiServer(dir);
    for (let round = 1; round <= Number(values.rounds); round++) {
      for (const variant of ["bare", "kiln"]) {
        const result = await measure(
          variant,
          sink,
          api?.kubeconfig,
          bodyFile,
          signature,
          `${sink}-${variant}-${round}`,
        );
        rows.push({ sink, variant, round, ...result });
        console.error(
          `${sink} ${variant} round ${round}: ${result.rps.toFixed(0)}/s p99 ${result.p99} ms, ${result.cpuMicros?.toFixed(0)} µs CPU/delivery, non-2xx ${result.non2xx}, errors ${result.errors}`,
        );
      }
    }
  }
} finally {
  api?.stop();
  await rm(dir, { recursive: true, force: true });
}

// The machine is shared: load drifts between runs. Each round measures bare then Kiln back to back, and
// the reported ratio is the median of those paired ratios; rates and p99 are medians too.
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const of = (sink: string, variant: string) => rows.filter((r) => r.sink === sink && r.variant === variant);
console.log(
  `payload ${body.length} bytes, ${values.connections} connections, ${values.duration}s per run, median of ${values.rounds} rounds`,
);
console.log(
  "| Build creation | bare node:http (/s) | p99 (ms) | CPU/delivery | Kiln koa (/s) | p99 (ms) | CPU/delivery | rate ratio Kiln/bare (paired rounds) | CPU ratio bare/Kiln |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const sink of [...new Set(rows.map((r) => r.sink))]) {
  const b = of(sink, "bare");
  const k = of(sink, "kiln");
  const ratios = k.map((kr, i) => kr.rps / b[i]!.rps);
  const cpu = k.map((kr, i) => b[i]!.cpuMicros! / kr.cpuMicros!);
  const label = sink === "noop" ? "excluded (no-op sink)" : "included (test API server)";
  const us = (rs: Result[]) => `${median(rs.map((r) => r.cpuMicros!)).toFixed(0)} µs`;
  console.log(
    `| ${label} | ${median(b.map((r) => r.rps)).toFixed(0)} | ${median(b.map((r) => r.p99))} | ${us(b)} | ${median(k.map((r) => r.rps)).toFixed(0)} | ${median(k.map((r) => r.p99))} | ${us(k)} | ${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(", ")}) | ${median(cpu).toFixed(2)} |`,
  );
}
