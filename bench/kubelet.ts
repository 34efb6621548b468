// Process kubelet: what running a container as a pod costs over running the same sandbox by hand.
//
//   node bench/kubelet.ts [--pods 30] [--burst 20]
//
// Baselines measured in the same run: spawning `/bin/true` bare, and running it in the kubelet's
// bubblewrap sandbox (ContainerProcess) without any API. The kubelet figure is pod created →
// phase Succeeded seen on a watch, through the test API server. Last, a loud container's log: the
// kubelet's ContainerLog (CRI lines, on the kubelet's main thread) against the same 64 KB reads
// written to a file as they come. And image mode against host-mirror mode: the same pod
// (`/bin/true`) in a local image (the kubelet tests' busybox image: an overlay root of its own per
// container) and with an image that is not in local storage (the host's tree mirrored), alternated.
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CoreV1Api, Watch } from "@kubernetes/client-node";
import { ContainerProcess } from "../lib/container/process.ts";
import { startTestCluster } from "../stand-ins/cluster/start.ts";
import { startKubelet } from "../stand-ins/kubelet/kubelet.ts";
import { ContainerLog } from "../stand-ins/kubelet/logs.ts";
import { ensureTestImage } from "../stand-ins/kubelet/test-image.ts";

const { values } = parseArgs({
  options: { pods: { type: "string", default: "30" }, burst: { type: "string", default: "20" } },
});
const PODS = Number(values.pods);
const BURST = Number(values.burst);
const dir = mkdtempSync(join(tmpdir(), "kiln-bench-kubelet-"));
const localImage = ensureTestImage();

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function bare(): Promise<number> {
  const t = performance.now();
  await new Promise((r) => spawn("/bin/true").on("close", r));
  return performance.now() - t;
}

let n = 0;
async function sandbox(): Promise<number> {
  const t = performance.now();
  const log = new ContainerLog(join(dir, `s${n}.log`), 1 << 20);
  const p = new ContainerProcess({
    id: `bench-${process.pid}-${n++}`,
    command: ["/bin/true"],
    env: new Map([["PATH", "/usr/bin:/bin"]]),
    mounts: [],
    workingDir: "/",
    hostname: "bench",
    log,
  });
  await p.exited;
  log.close();
  return performance.now() - t;
}

const cluster = await startTestCluster({ applyCRDs: false });
const kubelet = await startKubelet({
  kubeConfig: cluster.kubeConfig,
  setPodLogSource: (s) => cluster.server.setPodLogSource(s),
});
const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
const done = new Map<string, () => void>();
await new Watch(cluster.kubeConfig).watch(
  "/api/v1/namespaces/default/pods",
  {},
  (_type, pod) => {
    if (pod.status?.phase === "Succeeded") done.get(pod.metadata.name)?.();
  },
  () => {},
);

let podN = 0;
async function viaKubelet(image = "x"): Promise<number> {
  const name = `bench-${podN++}`;
  const finished = new Promise<void>((r) => done.set(name, r));
  const t = performance.now();
  await core.createNamespacedPod({
    namespace: "default",
    body: {
      metadata: { name },
      spec: {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        containers: [{ name: "c", image, command: ["/bin/true"] }],
      },
    },
  });
  await finished;
  return performance.now() - t;
}

async function series(f: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < PODS; i++) out.push(await f());
  return out;
}

async function burst(f: () => Promise<number>): Promise<number> {
  const t = performance.now();
  await Promise.all(Array.from({ length: BURST }, f));
  return performance.now() - t;
}

await series(sandbox); // warm-up
await viaKubelet();
const rows: [string, number[]][] = [
  ["bare spawn of /bin/true", await series(bare)],
  ["bwrap sandbox, no API", await series(sandbox)],
  ["pod through the kubelet", await series(viaKubelet)],
];
const sandboxBurst = await burst(sandbox);
const kubeletBurst = await burst(viaKubelet);
console.log(`| measure (${PODS} sequential runs) | p50 | p99 |`);
console.log("| --- | --- | --- |");
for (const [label, xs] of rows) console.log(`| ${label} | ${ms(pct(xs, 50))} | ${ms(pct(xs, 99))} |`);
// Image mode and host-mirror mode alternated, so both see the same machine load.
await viaKubelet(localImage); // warm-up: the image's root mounted once
const hostMirror: number[] = [];
const imageMode: number[] = [];
for (let i = 0; i < PODS; i++) {
  hostMirror.push(await viaKubelet());
  imageMode.push(await viaKubelet(localImage));
}
console.log(
  `| pod, host-mirror mode (alternated) | ${ms(pct(hostMirror, 50))} | ${ms(pct(hostMirror, 99))} |`,
);
console.log(`| pod, image mode (alternated) | ${ms(pct(imageMode, 50))} | ${ms(pct(imageMode, 99))} |`);
const [, sb] = rows[1]!;
const [, kb] = rows[2]!;
console.log(`\nkubelet / sandbox p50 ratio: ${(pct(kb, 50) / pct(sb, 50)).toFixed(1)}x`);
console.log(
  `image mode / host-mirror mode p50 ratio: ${(pct(imageMode, 50) / pct(hostMirror, 50)).toFixed(2)}x`,
);
console.log(
  `burst of ${BURST}: sandboxes ${ms(sandboxBurst)}, pods ${ms(kubeletBurst)}, ratio ${(kubeletBurst / sandboxBurst).toFixed(1)}x`,
);
const LINE = "2026-11-22T00:00:00Z INFO building module kiln/agent: compiled 42 files, 0 warnings ....\n";
const read = Buffer.from(LINE.repeat(Math.floor(65536 / LINE.length)));
const READS = 1000;
function logRun(write: (b: Buffer) => void, close: () => void): number {
  const t = performance.now();
  for (let i = 0; i < READS; i++) write(read);
  close();
  return performance.now() - t;
}
const rawLog: number[] = [];
const criLog: number[] = [];
for (let i = 0; i < 3; i++) {
  const fd = openSync(join(dir, `raw-${i}.log`), "a");
  rawLog.push(
    logRun(
      (b) => writeSync(fd, b),
      () => closeSync(fd),
    ),
  );
  const log = new ContainerLog(join(dir, `cri-${i}.log`), 1 << 30);
  criLog.push(
    logRun(
      (b) => log.write("stdout", b),
      () => log.close(),
    ),
  );
}
const logMB = (READS * read.length) / 2 ** 20;
const [rawMs, criMs] = [pct(rawLog, 50), pct(criLog, 50)];
console.log(
  `\ncontainer log, ${logMB.toFixed(0)} MB of ${LINE.length}-byte lines in 64 KB reads (median of 3): ` +
    `plain file writes ${ms(rawMs)}, ContainerLog ${ms(criMs)}, ratio ${(criMs / rawMs).toFixed(1)}x`,
);
await kubelet.stop();
await cluster.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
