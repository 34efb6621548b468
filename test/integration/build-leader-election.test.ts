// Two `kiln controller` processes: only the Lease holder acts; kill -9 it and the other takes over
// within a lease duration, with no duplicate pod; a clean shutdown releases the Lease.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { KILN_IMAGE } from "../../scripts/image-inputs.ts";
import { type Harness, PIPELINE, podPath, podStatuses, startHarness, waitFor } from "./build-harness.ts";

const KILN = resolve(import.meta.dirname, "../../bin/kiln.ts");
const LEASE = "/apis/coordination.k8s.io/v1/namespaces/kiln/leases/kiln-controller";

let h: Harness;
let sha: string;
const children: ChildProcess[] = [];

function controllerProcess(identity: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      KILN,
      "controller",
      "--kubeconfig",
      h.cluster.kubeconfigPath,
      "--namespace",
      "default",
      "--metrics-host",
      "127.0.0.1",
      "--metrics-port",
      "0",
      "--identity",
      identity,
      "--lease-duration",
      "3s",
      "--log-level",
      "warn",
      "--image",
      KILN_IMAGE,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  child.on("exit", (code, signal) => {
    if (code !== 0 && signal !== "SIGKILL" && stderr)
      console.error(`controller ${identity} exited ${code}: ${stderr}`);
  });
  children.push(child);
  return child;
}

const holder = async () =>
  (await h.client.get<{ spec?: { holderIdentity?: string } }>(LEASE).catch(() => undefined))?.spec
    ?.holderIdentity;

async function podsOf(build: string): Promise<V1Pod[]> {
  return (await h.client.list<V1Pod>(podPath(), { labelSelector: `kiln.dev/build=${build}` })).items;
}

before(async () => {
  h = await startHarness();
  sha = await h.repo.commit({ ".kiln.yaml": PIPELINE });
  await h.createRepository("app", { concurrency: 10, cancelSuperseded: false });
});
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await h.stop();
});

describe("leader election between two controller processes", { timeout: 60_000 }, () => {
  test("kill -9 the leader: the other takes over, no duplicate pod; SIGTERM releases the Lease", async () => {
    const a = controllerProcess("replica-a");
    await waitFor(
      "replica-a to lead",
      async () => ((await holder()) === "replica-a" ? true : undefined),
      20_000,
    );
    const b = controllerProcess("replica-b");
    await h.createBuild("lead-1", { sha, branch: "one" });
    const first = await h.waitPhase("lead-1", "Pending", 15_000);
    assert.equal(await holder(), "replica-a", "b stays a candidate while a renews");

    a.kill("SIGKILL");
    await new Promise((r) => a.once("exit", r));
    await h.createBuild("lead-2", { sha, branch: "two" });
    await h.setPodStatus(first.status!.podName!, podStatuses.running());
    await waitFor(
      "replica-b to lead",
      async () => ((await holder()) === "replica-b" ? true : undefined),
      15_000,
    );
    await h.waitPhase("lead-2", "Pending", 10_000);
    await h.waitPhase("lead-1", "Running", 10_000);
    await h.setPodStatus(first.status!.podName!, podStatuses.finished("Succeeded", 0));
    await h.waitPhase("lead-1", "Succeeded", 10_000);
    assert.equal((await podsOf("lead-1")).length, 1, "no duplicate pod for the build in flight at the kill");
    assert.equal((await podsOf("lead-2")).length, 1);

    b.kill("SIGTERM");
    const code = await new Promise((r) => b.once("exit", (c) => r(c)));
    assert.equal(code, 0);
    assert.equal(await holder(), "", "released on clean shutdown");
  });
});
