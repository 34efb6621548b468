// Output throughput of the agent: a step writing 200 MB of log lines through the agent (local mode:
// prefixed lines to stdout; pod mode: out FIFO → agent → echo FIFO → the build container's stdout),
// against the same command piped straight to /dev/null; and pod mode shipping every byte to a real
// `kiln store` (files backend, tokens checked by the test API server) against pod mode without. Each agent
// run is a fresh process so its peak RSS is its own; an idle Node process gives the memory floor. Medians
// of ROUNDS.
//   node bench/agent-throughput.ts
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localExecutor } from "../agent/local-executor.ts";
import type { RunStep } from "../agent/manifest-schema.ts";
import { RunnerLink } from "../agent/runner-link.ts";
import { StepLogs } from "../agent/step-logs.ts";
import { createLogger, silentLogger } from "../lib/log.ts";
import { StoreClient } from "../lib/store-client.ts";
import { podDirs, startRunner } from "../test/agent/pod-harness.ts";
import { buildPod, runStore, startWorld } from "../test/integration/store-harness.ts";

const MB = 200;
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const LINE = "2026-11-22T00:00:00Z INFO building module kiln/agent: compiled 42 files, 0 warnings ....";
const STEP = `yes '${LINE}' | head -c ${MB * 1024 * 1024}`;
const step: RunStep = { name: "loud", run: STEP };

async function child(mode: string): Promise<void> {
  const t = performance.now();
  if (mode === "local") {
    // As `kiln run > build.log`: stdout is a file (the parent points it at /dev/null).
    const exec = localExecutor({ cwd: process.cwd(), out: process.stdout, env: process.env, nameWidth: 4 });
    const r = await (await exec.start(0, step, {})).exited;
    if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}`);
  } else if (mode === "read") {
    // Node's own floor: read the step's pipe and drop every byte.
    const c = spawn("sh", ["-c", STEP], { stdio: ["ignore", "pipe", "ignore"] });
    c.stdout.on("data", () => undefined);
    await new Promise((r) => c.on("close", r));
  } else if (mode === "store") {
    // The store's side, in a process of its own as in a cluster: a test API server, kiln store (files),
    // a Build with its pod and the agent's token. Says where and with what on stdout; ends with stdin.
    const world = await startWorld();
    const scratch = await mkdtemp(join(tmpdir(), "kiln-bench-store-"));
    const store = await runStore(world, { kind: "files", dir: scratch });
    const { token } = await buildPod(world, { namespace: "bench", build: "bench-1", branch: "main" });
    process.stdout.write(`${JSON.stringify({ url: store.url, token })}\n`);
    process.stdin.resume();
    await new Promise((r) => process.stdin.on("end", r));
    await store.close();
    await world.stop();
    await rm(scratch, { recursive: true, force: true });
    return;
  } else if (mode === "sink") {
    // A store that always keeps up (no disk, no token check): what shipping costs the agent itself.
    const lengths = new Map<string, number>();
    const server = createServer(async (req, res) => {
      let n = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) n += chunk.length;
      const url = new URL(req.url ?? "/", "http://sink");
      const length = (lengths.get(url.pathname) ?? 0) + n;
      lengths.set(url.pathname, length);
      res.setHeader("content-type", "application/json");
      if (req.method === "GET") {
        const step = decodeURIComponent(url.pathname.split("/").pop() ?? "");
        const total = [...lengths].find(([p]) => p.endsWith(`/${encodeURIComponent(step)}`))?.[1] ?? 0;
        res.end(JSON.stringify({ steps: [{ step, length: total, complete: true }] }));
        return;
      }
      res.end(JSON.stringify({ length, complete: url.searchParams.get("complete") === "true" }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, token: "none" })}\n`);
    process.stdin.resume();
    await new Promise((r) => process.stdin.on("end", r));
    server.close();
    return;
  } else if (mode === "pod" || mode === "pod-store" || mode === "pod-sink") {
    const server =
      mode === "pod-store"
        ? await storeProcess("store")
        : mode === "pod-sink"
          ? await storeProcess("sink")
          : undefined;
    const client = server ? new StoreClient({ url: server.url, token: () => server.token }) : undefined;
    const logs = client
      ? new StepLogs(
          client,
          { namespace: "bench", build: "bench-1" },
          process.env.BENCH_DEBUG ? createLogger("bench", { destination: process.stderr }) : silentLogger(),
        )
      : undefined;
    const dirs = await podDirs();
    const runner = startRunner(dirs, ["dash"], { captureLog: false });
    const link = new RunnerLink({ kilnDir: dirs.kilnDir, ...(logs ? { logs } : {}) });
    await link.ready();
    const s = performance.now();
    const r = await (await link.start(0, step, {})).exited;
    const stepMs = performance.now() - s;
    // The step's time, and with shipping until the store holds the whole log (what "shipped" means).
    await logs?.close(120_000);
    const ms = performance.now() - s;
    if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}`);
    if (client && mode === "pod-store") {
      const [info] = await client.steps({ namespace: "bench", build: "bench-1" });
      if (!info?.complete || info.length < MB * 1024 * 1024)
        throw new Error(`the store holds ${info?.length} bytes, complete: ${info?.complete}`);
    }
    await link.exit(0);
    link.close();
    await runner.exited;
    dirs.cleanup();
    client?.close();
    await server?.stop();
    if (process.env.BENCH_DEBUG) console.error(JSON.stringify({ stepMs }));
    console.error(JSON.stringify({ ms, maxRSSkB: process.resourceUsage().maxRSS }));
    return;
  }
  console.error(JSON.stringify({ ms: performance.now() - t, maxRSSkB: process.resourceUsage().maxRSS }));
}

/** `kiln store` and its API server (or the sink) in a child process; its URL and the agent's token. */
async function storeProcess(
  kind: "store" | "sink",
): Promise<{ url: string; token: string; stop(): Promise<void> }> {
  const c = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] : []),
      import.meta.filename,
      "--child",
      kind,
    ],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  let out = "";
  const line = await new Promise<string>((resolve, reject) => {
    c.stdout.setEncoding("utf8").on("data", (t: string) => {
      out += t;
      if (out.includes("\n")) resolve(out.split("\n")[0]!);
    });
    c.on("exit", (code) => reject(new Error(`the store process ended (${code})`)));
  });
  const { url, token } = JSON.parse(line) as { url: string; token: string };
  return {
    url,
    token,
    stop: () =>
      new Promise<void>((resolve) => {
        c.on("close", () => resolve());
        c.stdin.end();
      }),
  };
}

function runChild(mode: string): { ms: number; maxRSSkB: number } {
  const r = spawnSync(process.execPath, [import.meta.filename, "--child", mode], {
    encoding: "utf8",
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 180_000,
  });
  if (r.status !== 0) throw new Error(`${mode}: exit ${r.status} ${r.signal ?? ""} ${r.stderr}`);
  return JSON.parse(r.stderr.trim().split("\n").at(-1)!);
}

function raw(hops = ""): number {
  const t = performance.now();
  execFileSync("sh", ["-c", `${STEP}${hops} > /dev/null`]);
  return performance.now() - t;
}

if (process.argv[2] === "--child") {
  await child(process.argv[3]!);
} else {
  const times: Record<string, number[]> = {
    raw: [],
    cat2: [],
    read: [],
    local: [],
    pod: [],
    "pod-sink": [],
    "pod-store": [],
  };
  const rss: Record<string, number[]> = { idle: [], local: [], pod: [], "pod-sink": [], "pod-store": [] };
  for (let i = 0; i < ROUNDS; i++) {
    times.raw!.push(raw());
    // What two more pipe hops cost in C (pod mode has two: out → agent, echo → the log).
    times.cat2!.push(raw(" | cat | cat"));
    times.read!.push(runChild("read").ms);
    for (const mode of ["local", "pod", "pod-sink", "pod-store"]) {
      const r = runChild(mode);
      times[mode]!.push(r.ms);
      rss[mode]!.push(r.maxRSSkB);
    }
    rss.idle!.push(runChild("idle").maxRSSkB);
  }
  const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const speed = (ms: number) => `${((MB / ms) * 1000).toFixed(0)} MB/s`;
  const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
  const [r, n, l, p] = [median(times.raw!), median(times.read!), median(times.local!), median(times.pod!)];
  const c2 = median(times.cat2!);
  const ps = median(times["pod-store"]!);
  const pk = median(times["pod-sink"]!);
  const rows: [string, string][] = [
    [`raw: ${MB} MB piped to /dev/null (baseline)`, `${r.toFixed(0)} ms, ${speed(r)}`],
    ["same through `| cat | cat` (two C pipe hops)", `${c2.toFixed(0)} ms, ${speed(c2)}`],
    ["Node reading the pipe and dropping it (floor)", `${n.toFixed(0)} ms, ${speed(n)}`],
    ["agent, local mode (prefixed lines to stdout)", `${l.toFixed(0)} ms, ${speed(l)}`],
    ["agent, pod mode (FIFO → agent → build log)", `${p.toFixed(0)} ms, ${speed(p)}`],
    ["agent, pod mode shipping to a store that keeps up (a sink)", `${pk.toFixed(0)} ms, ${speed(pk)}`],
    ["agent, pod mode shipping to kiln store (until stored)", `${ps.toFixed(0)} ms, ${speed(ps)}`],
    ["throughput ratio local / raw", `${(r / l).toFixed(2)}`],
    ["throughput ratio pod / raw", `${(r / p).toFixed(2)}`],
    ["throughput ratio pod shipping to a sink / pod without", `${(p / pk).toFixed(2)}`],
    ["throughput ratio pod shipping to a sink / raw", `${(r / pk).toFixed(2)}`],
    ["throughput ratio pod shipping to kiln store / pod without", `${(p / ps).toFixed(2)}`],
    ["throughput ratio pod shipping to kiln store / raw", `${(r / ps).toFixed(2)}`],
    ["throughput ratio two C hops / raw", `${(r / c2).toFixed(2)}`],
    ["throughput ratio Node floor / raw", `${(r / n).toFixed(2)}`],
    ["peak RSS, idle Node process (floor)", mb(median(rss.idle!))],
    ["peak RSS, agent in local mode", mb(median(rss.local!))],
    ["peak RSS, agent in pod mode", mb(median(rss.pod!))],
    ["peak RSS, agent in pod mode shipping to a sink", mb(median(rss["pod-sink"]!))],
    ["peak RSS, agent in pod mode shipping to kiln store", mb(median(rss["pod-store"]!))],
  ];
  console.log(`A step writing ${MB} MB of ${LINE.length + 1}-byte lines, median of ${ROUNDS} rounds\n`);
  const w = Math.max(...rows.map((x) => x[0].length));
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
}
