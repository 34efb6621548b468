// Store bench: restoring a ~200 MB cache archive (tar, zstd) as the build pod's agent does it — `kiln store`
// → lib/store-client.ts → Node's zstd → npm tar's extraction (agent/cache.ts, BuildCache.restore) — against
// `tar --zstd -x` of the same archive read from disk, in the same run. The store runs as its own process
// (`kiln store`, files backend on a temporary directory, tokens checked against the test API server, as in
// a cluster). For comparison also the store's bytes piped into `tar -x` (the restore before agent/cache.ts),
// and the bytes alone. Rounds alternate; medians. Then one save as the agent makes it (pack, zstd, upload).
//   node bench/store.ts [--rounds 3] [--mb 200]
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createReadStream, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { BuildCache, remoteCacheStore } from "../agent/cache.ts";
import { StoreClient } from "../lib/store-client.ts";
import { buildPod, startWorld } from "../test/integration/store-harness.ts";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, mb: { type: "string", default: "200" } },
});
const rounds = Number(values.rounds);
const targetMB = Number(values.mb);
const root = resolve(import.meta.dirname, "..");

async function run(
  command: string,
  args: string[],
  options: { stdin?: NodeJS.ReadableStream } = {},
): Promise<void> {
  const child = spawn(command, args, { stdio: [options.stdin ? "pipe" : "ignore", "ignore", "inherit"] });
  const exited = once(child, "exit");
  if (options.stdin) await pipeline(options.stdin, child.stdin!);
  const [code] = await exited;
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${code}`);
}

/** A tree like a dependency cache: many small text files (compressible) and binaries (not), as tar.zst. */
async function makeArchive(dir: string): Promise<string> {
  const tree = join(dir, "tree");
  const text = Buffer.from(
    Array.from(
      { length: 2000 },
      (_, i) => `export function f${i}(a, b) { return a * ${i} + b; } // ${i % 97}\n`,
    ).join(""),
  );
  // Random bytes make most of the archive (as binaries do); the text beside them zstd shrinks about 10x.
  const randomMB = Math.max(1, targetMB - 8);
  const { randomBytes } = await import("node:crypto");
  for (let pkg = 0; pkg < 200; pkg++) {
    const pkgDir = join(tree, "workspace", "node_modules", `pkg-${pkg}`, "lib");
    await mkdir(pkgDir, { recursive: true });
    for (let f = 0; f < 10; f++)
      await writeFile(join(pkgDir, `file-${f}.js`), text.subarray(0, 30_000 + f * 1000));
    await writeFile(join(pkgDir, "native.node"), randomBytes(Math.round((randomMB * 1024 * 1024) / 200)));
  }
  const archive = join(dir, "cache.tar.zst");
  // Entries named as the agent names them (api/cache.ts): where the build container sees them.
  await run("tar", ["--zstd", "-cf", archive, "-C", tree, "workspace"]);
  await rm(tree, { recursive: true, force: true });
  return archive;
}

async function startStoreProcess(
  kubeconfig: string,
  dir: string,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      join(root, "bin/kiln.ts"),
      "store",
      "--kubeconfig",
      kubeconfig,
      "--dir",
      dir,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--metrics-port",
      "0",
      "--cache-max-bytes",
      "2Gi",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (entry.msg === "listening" && entry.url) {
      child.stdout!.resume();
      return { url: entry.url, child };
    }
  }
  throw new Error("kiln store exited before listening");
}

/** User + system CPU time of a process so far (ms), from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const world = await startWorld();
  const scratch = await mkdtemp(join(tmpdir(), "kiln-store-bench-"));
  const { url, child } = await startStoreProcess(world.storeKubeconfig, join(scratch, "store"));
  try {
    const archive = await makeArchive(scratch);
    const size = (await stat(archive)).size;
    const { token } = await buildPod(world, { namespace: "bench", build: "bench-1", branch: "main" });
    const client = new StoreClient({ url, token: () => token });
    const repo = { namespace: "bench", repository: "app" };
    const out = join(scratch, "out");
    const workspace = join(out, "workspace");
    const cacheOf = () =>
      BuildCache.open({
        spec: { key: "npm", paths: ["node_modules"] },
        dirs: { workspace },
        store: remoteCacheStore(client, repo),
        say: (line) => lines.push(line),
      });
    const lines: string[] = [];
    const key = (await cacheOf()).key;
    let t = performance.now();
    await client.saveCache({ ...repo, key }, createReadStream(archive));
    const saveMs = performance.now() - t;
    const timed = async (work: () => Promise<void>) => {
      await rm(out, { recursive: true, force: true });
      await mkdir(workspace, { recursive: true });
      const started = performance.now();
      await work();
      return performance.now() - started;
    };
    const disk: number[] = [];
    const agent: number[] = [];
    const intoTar: number[] = [];
    const transfer: number[] = [];
    const clientCpu: number[] = [];
    const storeCpu: number[] = [];
    const query = { key, prefixes: ["npm-"], branches: ["main"] };
    for (let round = 0; round < rounds; round++) {
      disk.push(await timed(() => run("tar", ["--zstd", "-xf", archive, "-C", out])));
      const client0 = process.cpuUsage();
      const store0 = cpuMs(child.pid!);
      agent.push(
        await timed(async () => {
          lines.length = 0;
          await (await cacheOf()).restore("main", "main");
          if (!lines[0]?.startsWith(`cache: restored ${key} (exact`)) throw new Error(lines.join("\n"));
        }),
      );
      const used = process.cpuUsage(client0);
      clientCpu.push((used.user + used.system) / 1000);
      storeCpu.push(cpuMs(child.pid!) - store0);
      intoTar.push(
        await timed(async () => {
          const hit = await client.restoreCache(repo, query);
          if (!hit?.exact) throw new Error("the cache was not found");
          await run("tar", ["--zstd", "-xf", "-", "-C", out], { stdin: hit.body });
        }),
      );
      t = performance.now();
      const hit = await client.restoreCache(repo, query);
      for await (const _ of hit!.body) {
        // bytes only: the store and the client, no extraction
      }
      transfer.push(performance.now() - t);
    }
    // One save as the agent makes it, from the tree the last restore left: pack, zstd, upload.
    await rm(out, { recursive: true, force: true });
    await mkdir(out);
    await run("tar", ["--zstd", "-xf", archive, "-C", out]);
    lines.length = 0;
    t = performance.now();
    await (await cacheOf()).save({ fork: false, branch: "main" });
    const agentSaveMs = performance.now() - t;
    if (!lines[0]?.startsWith("cache: saved")) throw new Error(lines.join("\n"));
    const mb = size / 1024 / 1024;
    const rate = (ms: number) => `${(mb / (ms / 1000)).toFixed(0)} MB/s`;
    const row = (label: string, xs: number[]) =>
      console.log(
        `${label.padEnd(40)} ${xs.map((x) => x.toFixed(0)).join(", ")} ms; median ${median(xs).toFixed(0)} ms (${rate(median(xs))})`,
      );
    console.log(
      `archive: ${mb.toFixed(0)} MiB (tar.zst); upload through the store: ${saveMs.toFixed(0)} ms (${rate(saveMs)})`,
    );
    row("tar --zstd -x from disk:", disk);
    row("agent restore (store → Node zstd → tar):", agent);
    row("store → tar --zstd -x (stdin):", intoTar);
    row("store bytes only:", transfer);
    console.log(
      `CPU per agent restore: this process (the agent) ${median(clientCpu).toFixed(0)} ms, kiln store ${median(storeCpu).toFixed(0)} ms`,
    );
    console.log(`agent save (pack → Node zstd → store): ${agentSaveMs.toFixed(0)} ms; ${lines[0]}`);
    // Each round's own ratio too: the machine is shared, and a round's two runs see the same load.
    const ratios = (xs: number[]) => disk.map((d, i) => d / xs[i]!);
    console.log(
      `throughput ratio (agent restore / tar -x from disk): ${(median(disk) / median(agent)).toFixed(2)} of medians, ` +
        `${median(ratios(agent)).toFixed(2)} median of rounds (${ratios(agent)
          .map((r) => r.toFixed(2))
          .join(", ")}) (aim ≥ 0.8); ` +
        `store → tar -x: ${(median(disk) / median(intoTar)).toFixed(2)}`,
    );
    client.close();
  } finally {
    child.kill("SIGTERM");
    await once(child, "exit");
    await rm(scratch, { recursive: true, force: true });
    await world.stop();
  }
}

await main();
