// `kiln controller` with the reporting module, as the command wires it (flags and environment), against
// the test API server, the fake GitHub and the fake Telegram.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";
import { GROUP, VERSION } from "../../api/group.ts";
import { parseControllerConfig } from "../../controllers/config.ts";
import { type RunningControllers, runControllers } from "../../controllers/main.ts";
import { BOT_COMMANDS } from "../../controllers/reporting/commands.ts";
import { REPORTING_FLAGS } from "../../controllers/reporting/config.ts";
import { reportingModule } from "../../controllers/reporting/module.ts";
import { silentLogger } from "../../lib/log.ts";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { FakeGitHub } from "../../stand-ins/github/index.ts";
import { FakeTelegram } from "../../stand-ins/telegram/server.ts";
import { waitFor } from "../wait-for.ts";

let cluster: TestCluster;
let telegram: FakeTelegram;
let github: FakeGitHub;
let running: RunningControllers | undefined;

before(async () => {
  cluster = await startTestCluster();
  telegram = await FakeTelegram.start({ chats: [{ id: -1001, type: "supergroup", title: "CI" }] });
  github = await FakeGitHub.start();
  github.addToken("ghp_main", { login: "kiln-bot" });
});

after(async () => {
  await running?.stop();
  await telegram.stop();
  await github.stop();
  await cluster.stop();
});

test("kiln controller announces a finished build in Telegram and on GitHub", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-reporting-"));
  writeFileSync(join(dir, "telegram-token"), `${telegram.token}\n`);
  const args = [
    "--kubeconfig",
    cluster.kubeconfigPath,
    "--no-leader-elect",
    "--metrics-port",
    "0",
    "--metrics-host",
    "127.0.0.1",
    "--github-api-url",
    github.url,
    "--telegram-token-file",
    join(dir, "telegram-token"),
    "--public-url",
    "https://kiln.example",
  ];
  const env = { KILN_TELEGRAM_API_ROOT: telegram.apiRoot };
  const config = parseControllerConfig(args, env, REPORTING_FLAGS);
  running = await runControllers(config, {
    kubeConfig: cluster.kubeConfig,
    log: silentLogger(),
    args,
    env,
    modules: [reportingModule],
  });

  const sha = github.addRepository("acme", "web").branches.get("main")!;
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const base = { group: GROUP, version: VERSION, namespace: "default" };
  await cluster.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: "default",
    body: { metadata: { name: "gh" }, stringData: { token: "ghp_main" } },
  });
  await custom.createNamespacedCustomObject({
    ...base,
    plural: "repositories",
    body: {
      apiVersion: "kiln.dev/v1alpha1",
      kind: "Repository",
      metadata: { name: "web" },
      spec: {
        github: { owner: "acme", name: "web" },
        tokenSecretRef: { name: "gh", key: "token" },
        notify: { telegram: { chats: ["-1001"], when: ["failure"] } },
      },
    },
  });
  await custom.createNamespacedCustomObject({
    ...base,
    plural: "builds",
    body: {
      apiVersion: "kiln.dev/v1alpha1",
      kind: "Build",
      metadata: { name: "web-1" },
      spec: {
        repository: "web",
        revision: { sha, ref: "refs/heads/main", branch: "main", message: "Break it" },
        trigger: { event: "push" },
      },
    },
  });
  const now = new Date();
  await custom.patchNamespacedCustomObjectStatus(
    {
      ...base,
      plural: "builds",
      name: "web-1",
      body: {
        status: {
          phase: "Failed",
          startTime: new Date(now.getTime() - 5000).toISOString(),
          completionTime: now.toISOString(),
        },
      },
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  const [message] = await telegram.waitForMessages(1, { chat: -1001, timeoutMs: 10_000 });
  assert.match(message!.text, /^❌ Failed: acme\/web main\n[0-9a-f]{7} Break it\n/);
  const build = await waitFor("reported", async () => {
    const b = (await custom.getNamespacedCustomObject({ ...base, plural: "builds", name: "web-1" })) as Build;
    return b.status?.reported?.github === "failure" && b.status.reported.telegram === "Failed"
      ? b
      : undefined;
  });
  assert.equal(build.status?.reported?.chats?.[0]?.state, "Sent");
  assert.deepEqual(
    github.statuses("acme", "web", sha).map((s) => [s.state, s.target_url]),
    [["failure", "https://kiln.example/builds/default/web-1"]],
  );
  assert.deepEqual(
    (telegram.commands as { command: string }[]).map((c) => c.command),
    BOT_COMMANDS.map((c) => c.command),
    "the bot registered its commands",
  );
});
