// The chat as a control plane, end to end: real pushes and pull requests on (fake) GitHub, Kiln's webhook
// and controllers, build pods on the process kubelet, and a team in a (fake, limits on) Telegram chat.
// An admin holds, releases, cancels, reruns and approves builds from the chat, with commands and with the
// buttons under Kiln's messages; a member who is no admin is refused, politely. Everything acts through
// the Build, so the cluster shows what happened.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Build } from "../../api/build.ts";
import { ANNOTATIONS, API_VERSION } from "../../api/group.ts";
import type { RepositoryInput } from "../../api/repository.ts";
import { parseControllerConfig } from "../../controllers/config.ts";
import { MODULES, type RunningControllers, runControllers } from "../../controllers/main.ts";
import { KubeClient, resourcePath } from "../../lib/kube.ts";
import { createLogger } from "../../lib/log.ts";
import { startLocalStore } from "../../sandbox/local-store.ts";
import { KILN_IMAGE } from "../../scripts/image-inputs.ts";
import { installBuildAgentClusterRole } from "../../stand-ins/cluster/build-agent-access.ts";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { storeReaderTokenFile } from "../../stand-ins/cluster/store-access.ts";
import { GitRepo } from "../../stand-ins/git-repo.ts";
import { FakeGitHub } from "../../stand-ins/github/index.ts";
import { stopAll } from "../../stand-ins/teardown.ts";
import { FakeTelegram, type SentMessage } from "../../stand-ins/telegram/server.ts";
import type { RunningStore } from "../../store/main.ts";
import { webhookConfig } from "../../webhook/config.ts";
import { type RunningWebhook, startWebhook } from "../../webhook/main.ts";
import { waitFor } from "../wait-for.ts";

const NS = "default";
const CHAT = -1004321;
const ADMIN = { id: 501, username: "ada" };
const MEMBER = { id: 502, username: "bob" };

let cluster: TestCluster;
let client: KubeClient;
let github: FakeGitHub;
let telegram: FakeTelegram;
let repo: GitRepo;
let webhook: RunningWebhook;
let controllers: RunningControllers;
let store: RunningStore;
const scratch = mkdtempSync(join(tmpdir(), "kiln-chat-control-"));
/** A secret's value the pipelines print: the chat must only ever show *** for it. */
const TOKEN = "npm_9f8e7d6c5b4a3f2e1d0c";

const getBuild = (name: string) => client.get<Build>(resourcePath(API_VERSION, "builds", NS, name));

async function buildOf(sha: string, predicate: (b: Build) => boolean, what: string): Promise<Build> {
  return waitFor(
    what,
    async () => {
      const list = await client.get<{ items: Build[] }>(resourcePath(API_VERSION, "builds", NS));
      return list.items.find((b) => b.spec.revision.sha === sha && predicate(b));
    },
    60_000,
  );
}

/** A chat message from the bot that matches, once it is there. */
function said(pattern: RegExp, what: string): Promise<SentMessage> {
  return waitFor(what, async () => telegram.messagesTo(CHAT).find((m) => pattern.test(m.text)), 30_000);
}

/** Writes in the chat and waits for the bot's next message there. */
async function command(text: string, from = ADMIN): Promise<string> {
  const before = telegram.messagesTo(CHAT).length;
  telegram.userSays(CHAT, text, from);
  return (await telegram.waitForMessages(before + 1, { chat: CHAT, timeoutMs: 20_000 })).at(-1)!.text;
}

async function push(pipeline: string, message: string): Promise<string> {
  const sha = await repo.commit({ ".kiln.yaml": `${pipeline}\n` }, message);
  const { deliveries } = await github.push("acme", "app", "main", { sha, message });
  assert.deepEqual(
    deliveries.map((d) => d.status_code),
    [201],
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
  github.addToken("ghp_chat", { login: "kiln-bot" });
  github.addRepository("acme", "app");
  telegram = await FakeTelegram.start({ chats: [{ id: CHAT, type: "supergroup", title: "Team" }] });
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
  store = await startLocalStore(cluster, { dir: join(scratch, "store") });
  const storeToken = await storeReaderTokenFile(cluster, scratch, "kiln-controller");
  const args = [
    ...["--store-url", store.url, "--store-token-file", storeToken],
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
    ...["--telegram-api-root", telegram.apiRoot],
  ];
  const env = { KILN_TELEGRAM_TOKEN: telegram.token, KILN_REPOSITORY_INTERVAL: "2s" };
  const flags = Object.assign({}, ...MODULES.map((m) => m.flags ?? {}));
  controllers = await runControllers(parseControllerConfig(args, env, flags), {
    kubeConfig: cluster.kubeConfig,
    log,
    args,
    env,
  });
  installBuildAgentClusterRole(cluster.server);
  await client.create(resourcePath("v1", "secrets", NS), {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "app-github", namespace: NS },
    stringData: { token: "ghp_chat", "webhook-secret": "chat-secret" },
  });
  await client.create(resourcePath("v1", "secrets", NS), {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "npm", namespace: NS },
    stringData: { token: TOKEN },
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
      notify: { telegram: { chats: [String(CHAT)], when: ["failure", "success"], admins: ["@ada"] } },
    },
  };
  await client.create(resourcePath(API_VERSION, "repositories", NS), repository);
  await waitFor("the webhook registered", async () => github.hooks("acme", "app").length === 1 || undefined);
});

after(() =>
  stopAll(
    () => controllers?.stop(),
    () => store?.close(),
    () => rmSync(scratch, { recursive: true, force: true }),
    () => webhook?.close(),
    () => cluster?.stop(),
    () => telegram?.stop(),
    () => github?.stop(),
    () => repo?.remove(),
  ),
);

describe("the chat controls builds", () => {
  test("a paused build: refused for a member, held and released by an admin's button, then announced", async () => {
    const sha = await push(
      [
        "image: alpine:3",
        "steps:",
        "  - {name: build, run: 'echo built'}",
        "  - {name: look, type: pause, timeout: 20s}",
        "  - {name: test, run: 'echo tested'}",
      ].join("\n"),
      "Pause to look around",
    );
    const paused = await buildOf(sha, (b) => b.status?.phase === "Paused", "the build to pause");
    const name = paused.metadata.name!;
    const message = await said(/⏸ Paused/, "the paused message");
    assert.match(
      message.text,
      new RegExp(`kubectl exec -it ${paused.status!.podName} -c build -n ${NS} -- sh`),
    );
    const release = message.reply_markup?.inline_keyboard.flat().find((b) => b.text.includes("Release"));
    assert.equal(release?.callback_data, `release:${paused.metadata.uid}`);

    assert.match(
      await command(`/release ${name}`, MEMBER),
      /^Sorry @bob, only the admins of acme\/app may \/release/,
    );
    assert.equal((await getBuild(name)).status?.phase, "Paused");
    assert.match(await command(`/hold ${name} 10m`), new RegExp(`^Holding ${name} until \\d\\d:\\d\\d UTC`));
    const held = await getBuild(name);
    assert.ok(held.metadata.annotations?.[ANNOTATIONS.holdUntil]);
    // The agent moved the pause's end: its step record says until when.
    await waitFor(
      "the hold in the step message",
      async () =>
        (await getBuild(name)).status?.steps?.[1]?.message?.includes(
          held.metadata.annotations![ANNOTATIONS.holdUntil]!,
        ) || undefined,
    );
    await new Promise((r) =>
      setTimeout(r, 21_000 - (Date.now() - Date.parse(paused.status!.steps![1]!.startTime!))),
    );
    assert.equal((await getBuild(name)).status?.phase, "Paused", "held past the pause's own 20 s");

    const before = telegram.callbackAnswers.length;
    telegram.userPresses(message.message_id, release!.callback_data!, ADMIN);
    await waitFor("the button answered", async () => telegram.callbackAnswers.length > before || undefined);
    assert.match(telegram.callbackAnswers.at(-1)!.text ?? "", new RegExp(`^Released ${name}`));
    const done = await buildOf(sha, (b) => b.status?.phase === "Succeeded", "the build to go on and pass");
    assert.deepEqual(
      done.status?.steps?.map((s) => s.phase),
      ["Succeeded", "Succeeded", "Succeeded"],
    );
    await said(/^✅ Passed: acme\/app/, "the final message");
  });

  test("/log: the tail of a build's log, its secret masked; still there once the pod and the Build are gone", async () => {
    const sha = await push(
      [
        "image: alpine:3",
        "secrets: [{env: NPM_TOKEN, secretRef: {name: npm, key: token}}]",
        "steps:",
        '  - {name: publish, run: \'echo "publishing with $NPM_TOKEN"; echo "registry said no"; exit 3\'}',
      ].join("\n"),
      "Publish",
    );
    const failed = await buildOf(sha, (b) => b.status?.phase === "Failed", "the publish build to fail");
    const name = failed.metadata.name!;
    await said(new RegExp(`Failed: acme/app[\\s\\S]*${sha.slice(0, 7)}`), "the failure message");
    const live = await command(`/log ${name}`);
    assert.match(live, /publishing with \*\*\*\nregistry said no/);
    assert.ok(!live.includes(TOKEN), live);

    await client.delete(resourcePath("v1", "pods", NS, failed.status!.podName!));
    await client.delete(resourcePath(API_VERSION, "builds", NS, name));
    await waitFor("the Build gone", async () => {
      const list = await client.get<{ items: Build[] }>(resourcePath(API_VERSION, "builds", NS));
      return list.items.some((b) => b.metadata.name === name) ? undefined : true;
    });
    const gone = await command(`/log ${name}`);
    assert.match(gone, /publishing with \*\*\*\nregistry said no/);
    assert.ok(!gone.includes(TOKEN), gone);
    // A name the store has nothing of: the usage, as before.
    assert.match(await command("/log app-0000000-nothing"), /^Usage: \/log/);
  });

  test("/cancel stops a running build; /rerun builds the commit again", async () => {
    const sha = await push("image: alpine:3\nsteps:\n  - {name: slow, run: 'sleep 60'}", "Slow");
    const running = await buildOf(sha, (b) => b.status?.phase === "Running", "the build to run");
    const name = running.metadata.name!;
    assert.equal(await command(`/cancel ${name}`), `Cancelling ${name}, as @ada asked.`);
    const cancelled = await buildOf(sha, (b) => b.status?.phase === "Cancelled", "the build to be cancelled");
    assert.equal(cancelled.spec.cancel, true);
    assert.equal(cancelled.metadata.annotations?.[ANNOTATIONS.requestedBy], "telegram:@ada");
    assert.equal(await command(`/cancel ${name}`), `${name} is already over (Cancelled).`);

    const reply = await command(`/rerun ${name}`);
    const rerun = /^Started (\S+), a rerun of/.exec(reply)?.[1];
    assert.ok(rerun, reply);
    const again = await getBuild(rerun);
    assert.equal(again.spec.revision.sha, sha);
    assert.equal(again.metadata.annotations?.[ANNOTATIONS.rebuildOf], name);
    await command(`/cancel ${rerun}`);
  });

  test("a fork's pull request waits for /approve, then builds without the repository's token", async () => {
    const sha = await repo.commit(
      { ".kiln.yaml": "image: alpine:3\nsteps:\n  - {name: test, run: 'echo from a fork'}\n" },
      "Fork change",
    );
    const deliveries = await github.openPullRequest("acme", "app", {
      number: 7,
      sha,
      from: "mallory/app",
      head: "patch-1",
    });
    assert.deepEqual(
      deliveries.map((d) => d.status_code),
      [201],
    );
    const waiting = await buildOf(
      sha,
      (b) => b.status?.reason === "AwaitingApproval",
      "the fork build to wait",
    );
    const name = waiting.metadata.name!;
    assert.equal(waiting.status?.phase, "Queued");
    assert.equal(waiting.status?.podName, undefined, "no pod before approval");
    const asked = await said(
      /Waiting for approval: acme\/app pull request #7 from a fork/,
      "the approval message",
    );
    assert.equal(
      asked.reply_markup?.inline_keyboard[0]?.[0]?.callback_data,
      `approve:${waiting.metadata.uid}`,
    );
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await getBuild(name)).status?.podName, undefined, "still no pod");

    assert.match(await command(`/approve ${name}`, MEMBER), /^Sorry @bob/);
    assert.equal(
      await command(`/approve ${name}`),
      `Approved ${name} (@ada): it builds now, without secrets.`,
    );
    const built = await buildOf(
      sha,
      (b) => b.status?.phase === "Succeeded",
      "the approved fork build to pass",
    );
    assert.equal(built.metadata.annotations?.[ANNOTATIONS.approvedBy], "telegram:@ada");
    const pod = await client.get<{ spec: { volumes?: Array<{ name: string; secret?: unknown }> } }>(
      resourcePath("v1", "pods", NS, built.status!.podName!),
    );
    assert.deepEqual(
      (pod.spec.volumes ?? []).filter((v) => v.secret).map((v) => v.name),
      [],
      "no Secret volume: the fork gets no token",
    );
  });
});
