// The whole product, end to end on one machine: a push on (fake) GitHub reaches `kiln webhook`, which
// creates a Build; `kiln controller` runs it in a pod on the process kubelet, where the agent runs the
// real .kiln.yaml of a real git repository; the result reaches Telegram and the GitHub commit status.
// Only the outside services are fakes (checked against their real schemas); everything of Kiln is real.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";
import { API_VERSION } from "../../api/group.ts";
import type { Repository, RepositoryInput } from "../../api/repository.ts";
import { parseControllerConfig } from "../../controllers/config.ts";
import { MODULES, type RunningControllers, runControllers } from "../../controllers/main.ts";
import { KubeClient, resourcePath } from "../../lib/kube.ts";
import { createLogger } from "../../lib/log.ts";
import { KILN_IMAGE } from "../../scripts/image-inputs.ts";
import { installBuildAgentClusterRole } from "../../stand-ins/cluster/build-agent-access.ts";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { GitRepo } from "../../stand-ins/git-repo.ts";
import { FakeGitHub } from "../../stand-ins/github/index.ts";
import { stopAll } from "../../stand-ins/teardown.ts";
import { FakeTelegram } from "../../stand-ins/telegram/server.ts";
import { webhookConfig } from "../../webhook/config.ts";
import { type RunningWebhook, startWebhook } from "../../webhook/main.ts";
import { waitFor } from "../wait-for.ts";

const NS = "default";
const CHAT = -1001234;
const WEBHOOK_SECRET = "e2e-webhook-secret";

let cluster: TestCluster;
let client: KubeClient;
let github: FakeGitHub;
let telegram: FakeTelegram;
let repo: GitRepo;
let webhook: RunningWebhook;
let controllers: RunningControllers;

async function buildsOfCommit(sha: string): Promise<Build[]> {
  const list = await client.get<{ items: Build[] }>(resourcePath(API_VERSION, "builds", NS));
  return list.items.filter((b) => b.spec.revision.sha === sha);
}

/** The Build of this commit once it reaches `phase` (there is exactly one per push). */
function buildInPhase(sha: string, phase: "Succeeded" | "Failed"): Promise<Build> {
  return waitFor(
    `the build to reach ${phase}`,
    async () => {
      const [b] = await buildsOfCommit(sha);
      return b?.status?.phase === phase ? b : undefined;
    },
    30_000,
  );
}

/** Commits to the real repository, then pushes the same commit on fake GitHub (which delivers it). */
async function push(files: Record<string, string>, message: string): Promise<string> {
  const sha = await repo.commit(files, message);
  const { deliveries } = await github.push("acme", "app", "main", { sha, message, files });
  assert.deepEqual(
    deliveries.map((d) => d.status_code),
    [201],
    "the webhook accepted the delivery",
  );
  return sha;
}

before(async () => {
  const log = createLogger("e2e", {
    level: process.env.KILN_TEST_LOG || "silent",
    destination: process.stderr,
  });
  cluster = await startTestCluster({ kubelet: true });
  client = new KubeClient(cluster.kubeConfig);
  github = await FakeGitHub.start();
  github.addToken("ghp_e2e", { login: "kiln-bot" });
  github.addRepository("acme", "app");
  telegram = await FakeTelegram.start({ chats: [{ id: CHAT, type: "supergroup", title: "CI" }] });
  repo = await GitRepo.create();
  const cloneURL = await repo.serveHttp();

  webhook = await startWebhook(
    webhookConfig.parse({
      kubeconfig: cluster.kubeconfigPath,
      host: "127.0.0.1",
      port: 0,
      logLevel: "silent",
    }),
  );
  const args = [
    ...[
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--no-leader-elect",
      "--namespace",
      NS,
      "--image",
      KILN_IMAGE,
    ],
    ...["--metrics-host", "127.0.0.1", "--metrics-port", "0", "--github-api-url", github.url],
    ...["--telegram-api-root", telegram.apiRoot, "--public-url", "https://kiln.example"],
  ];
  const env = { KILN_TELEGRAM_TOKEN: telegram.token, KILN_REPOSITORY_INTERVAL: "2s" };
  const flags = Object.assign({}, ...MODULES.map((m) => m.flags ?? {}));
  controllers = await runControllers(parseControllerConfig(args, env, flags), {
    kubeConfig: cluster.kubeConfig,
    log,
    args,
    env,
  });

  // What an operator sets up once: the install's agent ClusterRole, the agent's account, the secrets, the
  // Repository (the repository controller binds the ClusterRole in the namespace).
  installBuildAgentClusterRole(cluster.server);
  await client.create(resourcePath("v1", "serviceaccounts", NS), {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "kiln-build", namespace: NS },
    automountServiceAccountToken: false,
  });
  await client.create(resourcePath("v1", "secrets", NS), {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "app-github", namespace: NS },
    stringData: { token: "ghp_e2e", "webhook-secret": WEBHOOK_SECRET },
  });
  const repository: RepositoryInput = {
    apiVersion: API_VERSION,
    kind: "Repository",
    metadata: { name: "app", namespace: NS },
    spec: {
      github: { owner: "acme", name: "app", apiURL: github.url },
      cloneURL,
      tokenSecretRef: { name: "app-github", key: "token" },
      webhook: {
        url: `${webhook.url}/hooks/github`,
        secretRef: { name: "app-github", key: "webhook-secret" },
      },
      branches: ["main"],
      notify: { telegram: { chats: [String(CHAT)], when: ["failure", "success"] } },
    },
  };
  await client.create(resourcePath(API_VERSION, "repositories", NS), repository);
  await waitFor("the repository controller to register the webhook", async () =>
    github.hooks("acme", "app").length === 1 ? true : undefined,
  );
});

after(() =>
  stopAll(
    () => controllers?.stop(),
    () => webhook?.close(),
    () => cluster?.stop(),
    () => telegram?.stop(),
    () => github?.stop(),
    () => repo?.remove(),
  ),
);

describe("a push becomes a build, a pod, a chat message and a commit status", () => {
  test("a passing pipeline: Succeeded, every step recorded, one message, pending then success", async () => {
    const pipeline = [
      "image: alpine:3",
      "env: {GREETING: hello}",
      "steps:",
      "  - {name: greet, run: 'echo \"$GREETING from $(cat README)\"'}",
      "  - {name: check, run: 'test -f README && grep -q kiln README'}",
    ].join("\n");
    const sha = await push({ ".kiln.yaml": `${pipeline}\n`, README: "kiln\n" }, "Add a pipeline");

    const build = await buildInPhase(sha, "Succeeded");
    assert.equal((await buildsOfCommit(sha)).length, 1, "exactly one Build for the push");
    assert.equal(build.spec.trigger.event, "push");
    assert.deepEqual(
      build.status?.steps?.map((s) => [s.name, s.phase, s.exitCode]),
      [
        ["greet", "Succeeded", 0],
        ["check", "Succeeded", 0],
      ],
    );
    // The step's output is in the build container's log, not in the Build object.
    const log = await cluster.kubeConfig
      .makeApiClient(CoreV1Api)
      .readNamespacedPodLog({ name: build.status!.podName!, namespace: NS, container: "build" });
    assert.match(log, /hello from kiln/);
    assert.doesNotMatch(JSON.stringify(build), /hello from kiln/);

    await waitFor("the final commit status", async () =>
      github.statuses("acme", "app", sha).some((s) => s.state === "success") ? true : undefined,
    );
    assert.deepEqual(
      github.statuses("acme", "app", sha).map((s) => s.state),
      ["pending", "success"],
    );
    const [message] = await telegram.waitForMessages(1, { chat: CHAT, timeoutMs: 10_000 });
    assert.match(message!.text, /acme\/app/);
    assert.match(message!.text, new RegExp(sha.slice(0, 7)));
    assert.match(message!.text, /Add a pipeline/);
    await waitFor("the Repository's last build", async () => {
      const repository = await client.get<Repository>(resourcePath(API_VERSION, "repositories", NS, "app"));
      return repository.status?.lastBuild === build.metadata.name;
    });
  });

  test("a failing step: Failed naming the step, a failure status, a message naming the step", async () => {
    const pipeline = [
      "image: alpine:3",
      "steps:",
      "  - {name: build, run: 'echo building'}",
      "  - {name: unit-tests, run: 'echo 2 tests failed >&2; exit 3'}",
      "  - {name: deploy, run: 'echo never'}",
    ].join("\n");
    const sha = await push({ ".kiln.yaml": `${pipeline}\n` }, "Break the tests");

    const build = await buildInPhase(sha, "Failed");
    assert.match(build.status?.message ?? "", /unit-tests/);
    const steps = build.status?.steps ?? [];
    assert.deepEqual(
      steps.map((s) => [s.name, s.phase]),
      [
        ["build", "Succeeded"],
        ["unit-tests", "Failed"],
        ["deploy", "Skipped"],
      ],
    );
    assert.equal(steps[1]?.exitCode, 3);

    await waitFor("the failure status", async () =>
      github.statuses("acme", "app", sha).some((s) => s.state === "failure") ? true : undefined,
    );
    const messages = await telegram.waitForMessages(2, { chat: CHAT, timeoutMs: 10_000 });
    assert.equal(messages.length, 2, "one message per finished build");
    assert.match(messages[1]!.text, /unit-tests/);
  });
});
