// Chat chaos: builds finish while Telegram answers 429s (with retry_after) and 500s and drops connections
// for stretches adding up to more than a minute, GitHub answers 5xx for a while, and `kiln controller` is
// killed with SIGKILL (twice, or more) and started again. Afterwards every finished Build must have had
// exactly one message in each chat it is owed (a digest counts once for each build in it), none recorded
// Failed, and exactly one final commit status. The test command runs a short schedule
// (test/chaos/chat-chaos.test.ts); `npm run chaos` a longer one with a five-minute Telegram outage.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import type { Build } from "../../api/build.ts";
import { API_VERSION } from "../../api/group.ts";
import { KILN_IMAGE } from "../../scripts/image-inputs.ts";
import { FakeGitHub } from "../../stand-ins/github/index.ts";
import { stopAll } from "../../stand-ins/teardown.ts";
import { FakeTelegram, type InjectedError } from "../../stand-ins/telegram/server.ts";
import {
  type Harness,
  NS,
  PIPELINE,
  podStatuses,
  startHarness,
  waitFor,
} from "../integration/build-harness.ts";

const KILN = resolve(import.meta.dirname, "../../bin/kiln.ts");
const GROUP = -1007001;
const PRIVATE = 7002;

export type TelegramFault = Omit<InjectedError, "times" | "chat"> | "refuse";

export interface ChaosSchedule {
  /** Builds to run; they finish spread over the fault stretches. */
  builds: number;
  /** Telegram's answers over time: each stretch lasts its ms, then the next; undefined is a healthy stretch. */
  telegram: { ms: number; fault?: TelegramFault }[];
  /** When (ms after the start) the controller is killed with SIGKILL and started again. */
  kills: number[];
  /** When GitHub answers 5xx to commit statuses, and for how long. */
  githubOutage: { at: number; ms: number };
}

export const SHORT: ChaosSchedule = {
  builds: 14,
  telegram: [
    { ms: 8_000, fault: { error_code: 429, retry_after: 2 } },
    { ms: 20_000, fault: { error_code: 500 } },
    { ms: 4_000 },
    { ms: 12_000, fault: "refuse" },
    { ms: 6_000, fault: { error_code: 429, retry_after: 5 } },
    { ms: 16_000, fault: { error_code: 502 } },
  ],
  kills: [12_000, 40_000],
  githubOutage: { at: 5_000, ms: 20_000 },
};

export const LONG: ChaosSchedule = {
  builds: 40,
  telegram: [
    { ms: 30_000, fault: { error_code: 429, retry_after: 2 } },
    { ms: 150_000, fault: { error_code: 500 } },
    { ms: 150_000, fault: "refuse" },
    { ms: 10_000 },
    { ms: 30_000, fault: { error_code: 429, retry_after: 30 } },
    { ms: 60_000, fault: { error_code: 503 } },
  ],
  kills: [40_000, 200_000, 330_000],
  githubOutage: { at: 20_000, ms: 60_000 },
};

export interface ChaosCounts {
  builds: number;
  faultSeconds: number;
  kills: number;
  telegramCalls: number;
  /** Builds with exactly one message in each of the two chats. */
  announcedOnce: number;
  duplicates: string[];
  missing: string[];
  recordedFailed: string[];
  /** Builds with exactly one final commit status. */
  finalStatusOnce: number;
  statusProblems: string[];
  digests: number;
}

function controllerProcess(
  h: Harness,
  github: FakeGitHub,
  telegram: FakeTelegram,
  identity: string,
): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      KILN,
      "controller",
      ...["--kubeconfig", h.cluster.kubeconfigPath, "--namespace", NS, "--image", KILN_IMAGE],
      ...[
        "--metrics-host",
        "127.0.0.1",
        "--metrics-port",
        "0",
        "--identity",
        identity,
        "--lease-duration",
        "3s",
      ],
      ...["--github-api-url", github.url, "--telegram-api-root", telegram.apiRoot, "--log-level", "error"],
      "--no-build-access",
    ],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, KILN_TELEGRAM_TOKEN: telegram.token, KILN_TELEGRAM_COMMANDS: "false" },
    },
  );
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  child.on("exit", (code, signal) => {
    if (code && signal !== "SIGKILL" && signal !== "SIGTERM")
      console.error(`controller ${identity} exited ${code}: ${stderr}`);
  });
  return child;
}

export async function runChatChaos(
  schedule: ChaosSchedule,
  log: (line: string) => void = () => {},
): Promise<ChaosCounts> {
  const h = await startHarness();
  const github = await FakeGitHub.start();
  const telegram = await FakeTelegram.start({
    chats: [
      { id: GROUP, type: "supergroup", title: "CI" },
      { id: PRIVATE, type: "private", first_name: "Ada" },
    ],
  });
  let controller: ChildProcess | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    github.addToken("ghp_chaos", { login: "kiln-bot" });
    github.addRepository("acme", "app");
    await h.client.create(`/api/v1/namespaces/${NS}/secrets`, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "app-github", namespace: NS },
      stringData: { token: "ghp_chaos" },
    });
    await h.createRepository("app", {
      github: { owner: "acme", name: "app", apiURL: github.url },
      tokenSecretRef: { name: "app-github", key: "token" },
      concurrency: 100,
      cancelSuperseded: false,
      notify: { telegram: { chats: [String(GROUP), String(PRIVATE)], when: ["failure", "success"] } },
    });
    let generation = 0;
    controller = controllerProcess(h, github, telegram, `chaos-${generation}`);
    const started = Date.now();
    const total = schedule.telegram.reduce((sum, s) => sum + s.ms, 0);

    // Telegram's weather, stretch by stretch.
    let at = 0;
    for (const stretch of schedule.telegram) {
      timers.push(setTimeout(() => telegram.outage(stretch.fault), at));
      at += stretch.ms;
    }
    timers.push(setTimeout(() => telegram.outage(undefined), at));
    // GitHub's outage of commit statuses.
    timers.push(
      setTimeout(
        () => github.failNext({ method: "POST", path: /statuses/, status: 502, times: Infinity }),
        schedule.githubOutage.at,
      ),
      setTimeout(() => github.clearFailures(), schedule.githubOutage.at + schedule.githubOutage.ms),
    );
    // The kills: SIGKILL, then a fresh process (it waits out the dead one's Lease).
    for (const when of schedule.kills) {
      timers.push(
        setTimeout(() => {
          controller?.kill("SIGKILL");
          generation++;
          log(
            `${((Date.now() - started) / 1000).toFixed(0)} s: SIGKILL the controller, start chaos-${generation}`,
          );
          controller = controllerProcess(h, github, telegram, `chaos-${generation}`);
        }, when),
      );
    }

    // The builds, finishing spread over the fault stretches (alternately passing and failing).
    const names: string[] = [];
    for (let i = 0; i < schedule.builds; i++) {
      const due = started + Math.round((i * (total * 0.9)) / schedule.builds);
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      // A real commit (the controller reads .kiln.yaml at it), mirrored on GitHub (statuses go to it).
      const sha = await h.repo.commit({ ".kiln.yaml": PIPELINE, "change.txt": `${i}\n` }, `Change ${i}`);
      github.commit("acme", "app", "main", { sha, message: `Change ${i}` });
      const name = `chaos-${i}`;
      names.push(name);
      await h.createBuild(name, { sha });
      void finish(h, name, i % 3 === 0 ? "Failed" : "Succeeded");
    }
    log(`${names.length} builds created; waiting for every announcement`);
    await new Promise((r) => setTimeout(r, Math.max(0, started + total - Date.now())));
    const settled = await waitFor(
      "every build announced and its final status posted",
      async () => {
        const all = await builds(h);
        const done = all.filter((b) => names.includes(b.metadata.name!) && isSettled(b));
        return done.length === names.length ? all : undefined;
      },
      schedule === LONG ? 900_000 : 300_000,
    );
    await new Promise((r) => setTimeout(r, 2000)); // anything sent twice would show by now
    return count(settled, names, telegram, github, schedule);
  } finally {
    for (const t of timers) clearTimeout(t);
    controller?.kill("SIGKILL");
    await stopAll(
      () => telegram.stop(),
      () => github.stop(),
      () => h.stop(),
    );
  }
}

function isSettled(b: Build): boolean {
  const phase = b.status?.phase;
  const r = b.status?.reported;
  const finalState = phase === "Succeeded" ? "success" : "failure";
  return (
    (phase === "Succeeded" || phase === "Failed") &&
    r?.telegram === phase &&
    r.github === finalState &&
    !r.githubIntent
  );
}

async function builds(h: Harness): Promise<Build[]> {
  return (await h.client.list<Build>(`/apis/${API_VERSION}/namespaces/${NS}/builds`)).items;
}

/** What the pod and the agent report for a build: it runs, records its step, ends. */
async function finish(h: Harness, name: string, phase: "Succeeded" | "Failed"): Promise<void> {
  const pending = await h.waitPhase(name, "Pending", 120_000);
  const pod = pending.status!.podName!;
  await h.setPodStatus(pod, podStatuses.running());
  await h.reportSteps(name, [
    {
      name: "test",
      phase,
      exitCode: phase === "Succeeded" ? 0 : 1,
      startTime: new Date().toISOString(),
      completionTime: new Date().toISOString(),
    },
  ]);
  await h.setPodStatus(pod, podStatuses.finished(phase, phase === "Succeeded" ? 0 : 1));
}

function count(
  all: Build[],
  names: string[],
  telegram: FakeTelegram,
  github: FakeGitHub,
  schedule: ChaosSchedule,
): ChaosCounts {
  const counts: ChaosCounts = {
    builds: names.length,
    faultSeconds: schedule.telegram.filter((s) => s.fault).reduce((sum, s) => sum + s.ms, 0) / 1000,
    kills: schedule.kills.length,
    telegramCalls: telegram.calls.filter((c) => c.method === "sendMessage").length,
    announcedOnce: 0,
    duplicates: [],
    missing: [],
    recordedFailed: [],
    finalStatusOnce: 0,
    statusProblems: [],
    digests: telegram.sent.filter((m) => /builds finished/.test(m.text)).length,
  };
  for (const name of names) {
    const b = all.find((x) => x.metadata.name === name)!;
    const sha = b.spec.revision.sha.slice(0, 7);
    let once = true;
    for (const chat of [GROUP, PRIVATE]) {
      const n = telegram.messagesTo(chat).filter((m) => m.text.includes(sha)).length;
      if (n > 1) counts.duplicates.push(`${name} in ${chat}: ${n}`);
      if (n === 0) counts.missing.push(`${name} in ${chat}`);
      if (n !== 1) once = false;
    }
    if (once) counts.announcedOnce++;
    const failed = (b.status?.reported?.chats ?? []).filter((c) => c.state === "Failed");
    if (failed.length) counts.recordedFailed.push(`${name}: ${failed.map((c) => c.reason).join(", ")}`);
    const finals = github
      .statuses("acme", "app", b.spec.revision.sha)
      .filter((s) => s.context === "kiln" && s.state !== "pending");
    if (finals.length === 1) counts.finalStatusOnce++;
    else counts.statusProblems.push(`${name}: ${finals.map((s) => s.state).join(",") || "none"}`);
  }
  return counts;
}

export function assertNothingLost(counts: ChaosCounts): void {
  assert.deepEqual(counts.duplicates, [], "sent twice");
  assert.deepEqual(counts.missing, [], "never announced");
  assert.deepEqual(counts.recordedFailed, [], "recorded Failed");
  assert.deepEqual(counts.statusProblems, [], "not exactly one final commit status");
  assert.equal(counts.announcedOnce, counts.builds);
  assert.equal(counts.finalStatusOnce, counts.builds);
}

export function formatCounts(c: ChaosCounts): string {
  return [
    `builds finished: ${c.builds}; Telegram faults: ${c.faultSeconds} s; controller SIGKILLs: ${c.kills}`,
    `sendMessage calls: ${c.telegramCalls} (digests among the messages: ${c.digests})`,
    `announced exactly once in both chats: ${c.announcedOnce}/${c.builds}; sent twice: ${c.duplicates.length}; never: ${c.missing.length}; recorded Failed: ${c.recordedFailed.length}`,
    `exactly one final commit status: ${c.finalStatusOnce}/${c.builds}`,
  ].join("\n");
}

if (import.meta.main) {
  const schedule = process.argv.includes("--short") ? SHORT : LONG;
  const counts = await runChatChaos(schedule, (line) => console.log(line));
  console.log(formatCounts(counts));
  assertNothingLost(counts);
}
