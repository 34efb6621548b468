// The announcer against the test API server, the fake GitHub and the fake Telegram: Build status is
// driven by hand (as the build controller would), everything else is the real controller.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Build, BuildInput, BuildStatus } from "../../api/build.ts";
import { GROUP, VERSION } from "../../api/group.ts";
import type { Repository, RepositoryInput } from "../../api/repository.ts";
import { type ReportingController, reportingController } from "../../controllers/reporting/controller.ts";
import { silentLogger } from "../../lib/log.ts";
import { type Clock, systemClock } from "../../lib/runtime/clock.ts";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { FakeGitHub } from "../../stand-ins/github/index.ts";
import { FakeTelegram } from "../../stand-ins/telegram/server.ts";
import { waitFor } from "../wait-for.ts";

const NS = "default";
const CHAT = 42;
const GROUP_CHAT = -1001;
const STRANGER = 555;
// Real timers, but "now" shortly after the fixtures' times, whatever day the tests run.
const started = Date.now();
const clock: Clock = {
  now: () => Date.parse("2026-11-22T00:10:00Z") + Date.now() - started,
  after: systemClock.after,
};

let cluster: TestCluster;
let telegram: FakeTelegram;
let github: FakeGitHub;
let custom: CustomObjectsApi;
const running: ReportingController[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const builds = { group: GROUP, version: VERSION, namespace: NS, plural: "builds" };
const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

async function startAnnouncer(): Promise<ReportingController> {
  const reporting = reportingController({
    kubeConfig: cluster.kubeConfig,
    log: silentLogger(),
    clock,
    config: {
      telegramToken: telegram.token,
      telegramAPIRoot: telegram.apiRoot,
      telegramCommands: true,
      publicURL: "https://kiln.example",
      statusContext: "kiln",
    },
    tuning: {
      queue: { retry: { baseMs: 50 } },
      githubWriteSpacingMs: 0,
      retryAfterBaseValue: 10,
    },
  });
  await reporting.start();
  running.push(reporting);
  return reporting;
}

async function stopAnnouncer(reporting: ReportingController) {
  await reporting.stop();
  running.splice(running.indexOf(reporting), 1);
}

async function createRepository(name: string, chats: number[], when: string[]) {
  github.addRepository("acme", name);
  const repository: RepositoryInput = {
    apiVersion: "kiln.dev/v1alpha1",
    kind: "Repository",
    metadata: { name, namespace: NS },
    spec: {
      github: { owner: "acme", name, apiURL: github.url },
      tokenSecretRef: { name: "github", key: "token" },
      notify: {
        // User 42 (the fake's default sender) is an admin: /rebuild is an admin's command.
        telegram: {
          chats: chats.map(String),
          when: when as ("failure" | "recovery" | "success")[],
          admins: ["42"],
        },
      },
    },
  };
  await custom.createNamespacedCustomObject({ ...builds, plural: "repositories", body: repository });
  return github.repository("acme", name).branches.get("main")!;
}

async function createBuild(name: string, repository: string, sha: string): Promise<void> {
  const body: BuildInput = {
    apiVersion: "kiln.dev/v1alpha1",
    kind: "Build",
    metadata: { name, namespace: NS },
    spec: {
      repository,
      revision: {
        sha,
        ref: "refs/heads/main",
        branch: "main",
        message: "Make it <faster> & better",
        author: "Ada",
      },
      trigger: { event: "push" },
    },
  };
  await custom.createNamespacedCustomObject({ ...builds, body });
}

/** What the build controller would do. */
async function setStatus(name: string, status: BuildStatus) {
  await custom.patchNamespacedCustomObjectStatus({ ...builds, name, body: { status } }, merge);
}

const finished = (phase: "Failed" | "Succeeded"): BuildStatus => ({
  phase,
  startTime: "2026-11-22T00:00:00Z",
  completionTime: "2026-11-22T00:01:05Z",
  steps: [
    {
      name: "test",
      phase: phase === "Failed" ? "Failed" : "Succeeded",
      exitCode: phase === "Failed" ? 1 : 0,
    },
  ],
});

const getBuild = async (name: string) =>
  (await custom.getNamespacedCustomObject({ ...builds, name })) as Build;
const statuses = (repo: string, sha: string) =>
  github.statuses("acme", repo, sha).filter((s) => s.context === "kiln");

before(async () => {
  cluster = await startTestCluster();
  telegram = await FakeTelegram.start({
    chats: [
      { id: CHAT, type: "private", first_name: "Ada" },
      { id: GROUP_CHAT, type: "supergroup", title: "CI" },
      { id: STRANGER, type: "private", first_name: "Stranger" },
    ],
  });
  github = await FakeGitHub.start();
  github.addToken("ghp_integration", { login: "kiln-bot" });
  custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  await cluster.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: NS,
    body: { metadata: { name: "github" }, stringData: { token: "ghp_integration" } },
  });
});

after(async () => {
  for (const reporting of [...running]) await reporting.stop();
  github.assertNoDrift();
  await telegram.stop();
  await github.stop();
  await cluster.stop();
});

describe("reporting against the test cluster", () => {
  test("exactly one message per chat and one final status per finished build", async () => {
    const sha = await createRepository("one", [CHAT, GROUP_CHAT], ["failure"]);
    await startAnnouncer();
    await createBuild("one-1", "one", sha);
    await setStatus("one-1", { phase: "Pending" });
    await waitFor("pending status", () => statuses("one", sha).length === 1);
    await setStatus("one-1", { phase: "Running" });
    await sleep(200);
    await setStatus("one-1", finished("Failed"));
    await waitFor("announced", async () => (await getBuild("one-1")).status?.reported?.telegram === "Failed");
    await waitFor(
      "final status recorded",
      async () => (await getBuild("one-1")).status?.reported?.github === "failure",
    );
    await sleep(300); // anything extra would show up now
    assert.deepEqual(
      statuses("one", sha).map((s) => s.state),
      ["pending", "failure"],
    );
    const toChat = telegram.messagesTo(CHAT);
    assert.equal(toChat.length, 1);
    assert.equal(telegram.messagesTo(GROUP_CHAT).length, 1);
    assert.match(toChat[0]!.text, /Make it <faster> & better — Ada/);
    assert.match(toChat[0]!.text, /Step test failed \(exit 1\), after 1m05s/);
    assert.ok(
      toChat[0]!.entities.some(
        (e) => e.type === "text_link" && e.url === "https://kiln.example/builds/default/one-1",
      ),
    );
    for (const reporting of [...running]) await stopAnnouncer(reporting);
  });

  test("a controller restart between finish and announcement: one message, one final status", async () => {
    const sha = await createRepository("restart", [CHAT], ["failure"]);
    const first = await startAnnouncer();
    await createBuild("restart-1", "restart", sha);
    await setStatus("restart-1", { phase: "Running" });
    await waitFor(
      "pending posted",
      async () => (await getBuild("restart-1")).status?.reported?.github === "pending",
    );
    await stopAnnouncer(first);
    const before = telegram.messagesTo(CHAT).length;
    await setStatus("restart-1", finished("Failed")); // while no announcer runs
    // A previous process that died right after recording its intent, before saying anything:
    await setStatus("restart-1", {
      reported: {
        githubIntent: { state: "failure", description: "Failed at step test", time: "2026-11-22T00:02:00Z" },
      },
    });
    const second = await startAnnouncer();
    await waitFor("announced", async () => {
      const reported = (await getBuild("restart-1")).status?.reported;
      return reported?.telegram === "Failed" && reported.github === "failure";
    });
    await stopAnnouncer(second);
    const third = await startAnnouncer(); // and one more restart after it was all said
    await sleep(300);
    await stopAnnouncer(third);
    assert.equal(telegram.messagesTo(CHAT).length - before, 1);
    assert.deepEqual(
      statuses("restart", sha).map((s) => [s.state, s.description]),
      [
        ["pending", "Kiln is running the build"],
        ["failure", "Failed at step test"],
      ],
    );
  });

  test("429 retry_after is honoured", async () => {
    const sha = await createRepository("busy", [GROUP_CHAT], ["failure"]);
    telegram.injectError("sendMessage", { error_code: 429, retry_after: 1, chat: GROUP_CHAT });
    await createBuild("busy-1", "busy", sha);
    await setStatus("busy-1", finished("Failed"));
    const before = telegram.messagesTo(GROUP_CHAT).length;
    const started = Date.now();
    const reporting = await startAnnouncer();
    await telegram.waitForMessages(before + 1, { chat: GROUP_CHAT, timeoutMs: 8000 });
    assert.ok(Date.now() - started >= 1000, "the retry waited retry_after");
    await waitFor("recorded", async () => (await getBuild("busy-1")).status?.reported?.telegram === "Failed");
    await stopAnnouncer(reporting);
    assert.equal(telegram.messagesTo(GROUP_CHAT).length, before + 1);
  });

  test("403 stops sending to the chat and the Repository status says so", async () => {
    const sha = await createRepository("blocked", [CHAT, STRANGER], ["failure"]);
    telegram.block(STRANGER);
    await createBuild("blocked-1", "blocked", sha);
    await setStatus("blocked-1", finished("Failed"));
    const reporting = await startAnnouncer();
    const repository = await waitFor("repository status", async () => {
      const r = (await custom.getNamespacedCustomObject({
        ...builds,
        plural: "repositories",
        name: "blocked",
      })) as Repository;
      return r.status?.telegram?.blockedChats?.length ? r : undefined;
    });
    assert.deepEqual(
      repository.status?.telegram?.blockedChats?.map((b) => [b.chat, b.reason, b.message]),
      [[String(STRANGER), "Forbidden", "Forbidden: bot was blocked by the user"]],
    );
    await waitFor(
      "settled",
      async () => (await getBuild("blocked-1")).status?.reported?.telegram === "Failed",
    );
    await stopAnnouncer(reporting);
  });

  test("bot commands are answered only in configured chats", async () => {
    await startAnnouncer();
    const before = telegram.messagesTo(CHAT).length;
    telegram.userSays(STRANGER, "/builds one");
    telegram.userSays(CHAT, "/builds one");
    const replies = await telegram.waitForMessages(before + 1, { chat: CHAT });
    assert.match(
      replies.at(-1)!.text,
      /^acme\/one: latest builds\n❌ one-1 main [0-9a-f]{7} Failed at test \(1m05s\)/,
    );
    telegram.userSays(CHAT, "/rebuild one-1");
    await telegram.waitForMessages(before + 2, { chat: CHAT });
    const rebuilt = (await custom.listNamespacedCustomObject(builds)) as { items: Build[] };
    const manual = rebuilt.items.filter((b) => b.spec.trigger.event === "manual");
    assert.equal(manual.length, 1);
    assert.equal(manual[0]!.spec.revision.sha, (await getBuild("one-1")).spec.revision.sha);
    // /log reads the pod's log through the API (pods/log with tailLines).
    await cluster.kubeConfig.makeApiClient(CoreV1Api).createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: "one-1-pod" },
        spec: {
          containers: [
            { name: "build", image: "node:24" },
            { name: "agent", image: "kiln" },
          ],
        },
      },
    });
    cluster.server.setPodLogSource((namespace, pod, container, options) => {
      if (namespace !== NS || pod !== "one-1-pod" || container !== "build") return undefined;
      const lines = Array.from({ length: 80 }, (_, i) => `step output ${i} <b>&</b>\n`);
      return Readable.from(options.tailLines === undefined ? lines : lines.slice(-options.tailLines));
    });
    await setStatus("one-1", { podName: "one-1-pod" });
    telegram.userSays(CHAT, "/log one-1");
    const log = (await telegram.waitForMessages(before + 3, { chat: CHAT })).at(-1)!.text.split("\n");
    assert.equal(log[0], "Last lines of one-1:");
    assert.equal(log.length, 51);
    assert.equal(log.at(-1), "step output 79 <b>&</b>");
    assert.equal(
      telegram.sent.filter((m) => m.chat_id === STRANGER).length,
      0,
      "a chat no Repository announces to gets no answer",
    );
  });
});
