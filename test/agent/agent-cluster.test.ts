// The agent against the test Kubernetes API server: the runner and the agent complete a pipeline
// through a shared directory, every step lands in Build.status, a pause shows as a Paused step with
// the exec command and is resumed by the kiln.dev/resume annotation.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { runAgent } from "../../agent/agent-command.ts";
import { annotationResume } from "../../agent/pod-pauser.ts";
import { buildStatusPatcher } from "../../agent/status-reporter.ts";
import type { Build, BuildInput } from "../../api/build.ts";
import { ANNOTATIONS, API_VERSION, GROUP, RESOURCES, VERSION } from "../../api/group.ts";
import { AGENT_ENV, agentEnv } from "../../api/pod-protocol.ts";
import { silentLogger } from "../../lib/log.ts";
import { AGENT_SERVICE_ACCOUNT, grantBuildAgent } from "../../stand-ins/cluster/build-agent-access.ts";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { waitFor } from "../wait-for.ts";
import { agentConfig, type PodDirs, SHELLS, startPod } from "./pod-harness.ts";

const NS = "default";
let cluster: TestCluster;
let api: CustomObjectsApi;
/** The agent's own credentials, as in a build pod: the kiln-build ServiceAccount with the install's RBAC. */
let agentKubeConfig: KubeConfig;

before(async () => {
  cluster = await startTestCluster();
  api = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  grantBuildAgent(cluster.server, NS);
  const sa = cluster.server.objects.get(
    cluster.server.registry.find("", "v1", "serviceaccounts")!,
    NS,
    AGENT_SERVICE_ACCOUNT,
  );
  const now = Math.floor(Date.now() / 1000);
  const token = cluster.server.tokens.issue({
    namespace: NS,
    name: AGENT_SERVICE_ACCOUNT,
    uid: sa.metadata.uid!,
    audiences: ["https://kubernetes.default.svc.cluster.local"],
    issuedAt: now,
    expiresAt: now + 3600,
  });
  agentKubeConfig = new KubeConfig();
  agentKubeConfig.loadFromOptions({
    clusters: [cluster.kubeConfig.getCurrentCluster()!],
    users: [{ name: "agent", token }],
    contexts: [{ name: "agent", cluster: cluster.kubeConfig.getCurrentCluster()!.name, user: "agent" }],
    currentContext: "agent",
  });
});
after(() => cluster?.stop());

const ref = (name: string) => ({
  group: GROUP,
  version: VERSION,
  namespace: NS,
  plural: RESOURCES.Build.plural,
  name,
});

async function createBuild(name: string): Promise<void> {
  const body: BuildInput = {
    apiVersion: API_VERSION,
    kind: "Build",
    metadata: { name },
    spec: {
      repository: "api",
      revision: { sha: "4f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39", ref: "refs/heads/main", branch: "main" },
      trigger: { event: "manual" },
    },
  };
  await api.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural: RESOURCES.Build.plural,
    body,
  });
}

const getBuild = async (name: string) => (await api.getNamespacedCustomObject(ref(name))) as Build;

const config = (name: string, dirs: PodDirs) =>
  agentConfig(dirs, { build: name, namespace: NS, pod: `${name}-pod` });

describe("agent + runner + test API server", () => {
  test("each step lands in Build.status.steps; status.phase is left to the controller", async (t) => {
    const name = "agent-steps";
    await createBuild(name);
    const { dirs, runner } = await startPod(
      t,
      "steps:\n  - {name: one, run: echo one}\n  - {name: two, run: 'exit 5'}\n  - {name: three, run: 'true'}\n",
      SHELLS[0]!.argv,
    );
    const code = await runAgent(config(name, dirs), {
      log: silentLogger(),
      patch: buildStatusPatcher(agentKubeConfig, NS, name),
    });
    assert.equal(code, 1);
    assert.equal(await runner.exited, 1);
    const build = await getBuild(name);
    assert.deepEqual(
      build.status?.steps?.map((s) => [s.name, s.phase, s.exitCode]),
      [
        ["one", "Succeeded", 0],
        ["two", "Failed", 5],
        ["three", "Skipped", undefined],
      ],
    );
    assert.equal(build.status?.phase, undefined, "the agent never writes status.phase");
    assert.ok(build.status?.steps?.[0]?.startTime);
  });

  test("a pause step: Paused with the exec command, resumed by the kiln.dev/resume annotation", async (t) => {
    const name = "agent-pause";
    await createBuild(name);
    // An annotation already there before the pause must not resume it: only a change does.
    await api.patchNamespacedCustomObject(
      { ...ref(name), body: { metadata: { annotations: { [ANNOTATIONS.resume]: "old" } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const { dirs, runner } = await startPod(
      t,
      "steps:\n  - {name: build, run: echo built}\n  - {name: debug, type: pause, timeout: 30s}\n  - {name: test, run: 'true'}\n",
      SHELLS[1]!.argv,
    );
    const log = silentLogger();
    const done = runAgent(config(name, dirs), {
      log,
      patch: buildStatusPatcher(agentKubeConfig, NS, name),
      resume: annotationResume(agentKubeConfig, NS, name, log),
    });
    // Watches are what the agent uses; the test may simply look again until a deadline.
    const paused = await waitFor("the pause step Paused", async () => {
      const b = await getBuild(name);
      return b.status?.steps?.[1]?.phase === "Paused" && b;
    });
    const message = paused.status?.steps?.[1]?.message ?? "";
    assert.match(message, new RegExp(`kubectl exec -it ${name}-pod -c build -n ${NS} -- sh`));
    assert.match(message, /kubectl annotate --overwrite build agent-pause/);
    assert.equal(paused.status?.steps?.[2]?.phase, "Pending");
    assert.equal(runner.child.exitCode, null, "the build container stays up while paused");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(
      (await getBuild(name)).status?.steps?.[1]?.phase,
      "Paused",
      "still paused: the old value is no resume",
    );
    await api.patchNamespacedCustomObject(
      { ...ref(name), body: { metadata: { annotations: { [ANNOTATIONS.resume]: String(Date.now()) } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    assert.equal(await done, 0);
    assert.equal(await runner.exited, 0);
    const build = await getBuild(name);
    assert.deepEqual(
      build.status?.steps?.map((s) => [s.name, s.phase]),
      [
        ["build", "Succeeded"],
        ["debug", "Succeeded"],
        ["test", "Succeeded"],
      ],
    );
    assert.equal(build.status?.steps?.[1]?.message, "resumed");
  });

  test("a hold (kiln.dev/hold-until) keeps a pause past its deadline and says until when", async (t) => {
    const name = "agent-hold";
    await createBuild(name);
    const { dirs, runner } = await startPod(
      t,
      "steps:\n  - {name: debug, type: pause, timeout: 1500ms}\n  - {name: after, run: 'true'}\n",
      SHELLS[0]!.argv,
    );
    const log = silentLogger();
    const done = runAgent(config(name, dirs), {
      log,
      patch: buildStatusPatcher(agentKubeConfig, NS, name),
      resume: annotationResume(agentKubeConfig, NS, name, log),
    });
    await waitFor("Paused", async () => (await getBuild(name)).status?.steps?.[0]?.phase === "Paused");
    const until = new Date(Date.now() + 60_000);
    await api.patchNamespacedCustomObject(
      { ...ref(name), body: { metadata: { annotations: { [ANNOTATIONS.holdUntil]: until.toISOString() } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const held = await waitFor("the message to name the hold", async () => {
      const step = (await getBuild(name)).status?.steps?.[0];
      return step?.message?.includes(until.toISOString()) && step;
    });
    assert.equal(held.phase, "Paused");
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(
      (await getBuild(name)).status?.steps?.[0]?.phase,
      "Paused",
      "still paused past its own deadline",
    );
    await api.patchNamespacedCustomObject(
      { ...ref(name), body: { metadata: { annotations: { [ANNOTATIONS.resume]: String(Date.now()) } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    assert.equal(await done, 0);
    assert.equal(await runner.exited, 0);
  });

  test("`kiln agent` as the sidecar runs it: configured by env and KUBECONFIG only", async (t) => {
    const name = "agent-cli";
    await createBuild(name);
    const { dirs, runner } = await startPod(
      t,
      "steps:\n  - {name: hello, run: 'echo hello from $KILN_BUILD on $KILN_BRANCH'}\n",
      SHELLS[0]!.argv,
    );
    const env = {
      PATH: process.env.PATH,
      KUBECONFIG: cluster.kubeconfigPath,
      ...Object.fromEntries(
        agentEnv({ buildName: name, namespace: NS, branch: "main" }).flatMap((e) =>
          "value" in e ? [[e.name, e.value]] : [],
        ),
      ),
      [AGENT_ENV.podName]: `${name}-pod`,
      [AGENT_ENV.kilnDir]: dirs.kilnDir,
      [AGENT_ENV.workspace]: dirs.workspace,
    };
    const agent = spawn(process.execPath, [join(import.meta.dirname, "../../bin/kiln.ts"), "agent"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let logs = "";
    agent.stdout.on("data", (d) => {
      logs += d;
    });
    agent.stderr.on("data", (d) => {
      logs += d;
    });
    const code = await new Promise((resolve) => agent.on("close", resolve));
    assert.equal(code, 0, logs);
    assert.equal(await runner.exited, 0);
    assert.match(runner.log(), /hello from agent-cli on main/);
    assert.deepEqual(
      (await getBuild(name)).status?.steps?.map((s) => [s.name, s.phase]),
      [["hello", "Succeeded"]],
    );
    // JSON logs with the build's name; no token in them.
    assert.match(logs, /"component":"agent"/);
    assert.match(logs, /"name":"agent-cli"/);
    assert.doesNotMatch(logs, /Bearer|token/i);
  });
});
