// Store bench: restoring a ~200 MB cache archive (tar, zstd) through `kiln store` and lib/store-client.ts
// into `tar -x`, against `tar -x` of the same archive read from disk, in the same run. The store runs as
// its own process (`kiln store`, files backend on a temporary directory, tokens checked against the test
// API server, as in a cluster); the bench process is the build pod's agent: it restores the cache and
// pipes it into tar's stdin. Rounds alternate baseline and store; medians.
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
    const pkgDir = join(tree, "node_modules", `pkg-${pkg}`, "lib");
    await mkdir(pkgDir, { recursive: true });
    for (let f = 0; f < 10; f++)
      await writeFile(join(pkgDir, `file-${f}.js`), text.subarray(0, 30_000 + f * 1000));
    await writeFile(join(pkgDir, "native.node"), randomBytes(Math.round((randomMB * 1024 * 1024) / 200)));
  }
  const archive = join(dir, "cache.tar.zst");
  await run("tar", ["--zstd", "-cf", archive, "-C", tree, "."]);
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
    let t = performance.now();
    await client.saveCache({ ...repo, key: "npm-bench" }, createReadStream(archive));
    const saveMs = performance.now() - t;
    const out = join(scratch, "out");
    const timed = async (work: () => Promise<void>) => {
      await rm(out, { recursive: true, force: true });
      await mkdir(out);
      const started = performance.now();
      await work();
      return performance.now() - started;
    };
    const disk: number[] = [];
    const store: number[] = [];
    const transfer: number[] = [];
    const clientCpu: number[] = [];
    const storeCpu: number[] = [];
    for (let round = 0; round < rounds; round++) {
      disk.push(await timed(() => run("tar", ["--zstd", "-xf", archive, "-C", out])));
      const client0 = process.cpuUsage();
      const store0 = cpuMs(child.pid!);
      store.push(
        await timed(async () => {
          const hit = await client.restoreCache(repo, {
            key: "npm-bench",
            prefixes: ["npm-"],
            branches: ["main"],
          });
          if (!hit?.exact) throw new Error("the cache was not found");
          await run("tar", ["--zstd", "-xf", "-", "-C", out], { stdin: hit.body });
        }),
      );
      const used = process.cpuUsage(client0);
      clientCpu.push((used.user + used.system) / 1000);
      storeCpu.push(cpuMs(child.pid!) - store0);
      t = performance.now();
      const hit = await client.restoreCache(repo, { key: "npm-bench", branches: ["main"] });
      for await (const _ of hit!.body) {
        // bytes only: the store and the client, no tar
      }
      transfer.push(performance.now() - t);
    }
    const mb = size / 1024 / 1024;
    const rate = (ms: number) => `${(mb / (ms / 1000)).toFixed(0)} MB/s`;
    console.log(
      `archive: ${mb.toFixed(0)} MiB (tar.zst); save through the store: ${saveMs.toFixed(0)} ms (${rate(saveMs)})`,
    );
    console.log(
      `tar -x from disk:          ${disk.map((x) => x.toFixed(0)).join(", ")} ms; median ${median(disk).toFixed(0)} ms (${rate(median(disk))})`,
    );
    console.log(
      `restore via store → tar -x: ${store.map((x) => x.toFixed(0)).join(", ")} ms; median ${median(store).toFixed(0)} ms (${rate(median(store))})`,
    );
    console.log(
      `CPU per restore into tar: this process (the client) ${median(clientCpu).toFixed(0)} ms, kiln store ${median(storeCpu).toFixed(0)} ms`,
    );
    console.log(
      `restore via store, bytes only: median ${median(transfer).toFixed(0)} ms (${rate(median(transfer))})`,
    );
    console.log(
      `throughput ratio (store restore / tar -x from disk): ${(median(disk) / median(store)).toFixed(2)} (aim ≥ 0.8)`,
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
