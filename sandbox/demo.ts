// The sandbox's demo: a repository on the GitHub stand-in (real git, pushed to over HTTP), the
// Secret with its token and webhook secret, and a Repository for it, as a team would set one up. The
// repository controller registers the webhook; then the sandbox pushes the demo pipeline with git,
// so the first Build comes the way every later one does: git push → webhook → Build.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { API_VERSION } from "../api/group.ts";
import type { RepositoryInput } from "../api/repository.ts";
import { type KubeClient, resourcePath } from "../lib/kube.ts";
import type { DeliveryRecord, FakeGitHub, Repo } from "../stand-ins/github/index.ts";

const exec = promisify(execFile);

export const DEMO = { owner: "kiln-sandbox", name: "demo", alias: "demo", bot: "kiln-sandbox-bot" } as const;

export const DEMO_PIPELINE = `# The sandbox's demo pipeline: edit it, commit and git push to build again.
image: alpine:3
env:
  GREETING: Hello
steps:
  - name: greet
    run: echo "$GREETING from a Kiln build"
  - name: test
    run: grep -q Kiln README.md
`;

export interface DemoOptions {
  client: KubeClient;
  github: FakeGitHub;
  namespace: string;
  /** Where the demo's builds are announced, and who may control them from the chat. */
  telegram?: { chats: string[]; admins: string[] };
  /** How long the repository controller may take to register the webhook. */
  timeoutMs?: number;
}

export interface Demo {
  repo: Repo;
  /** The short clone URL the sandbox prints (/demo.git). */
  cloneURL: string;
}

/** Resolves with the first ping delivered to the repository's hooks (the hook is registered then). */
function firstPing(github: FakeGitHub, repo: Repo, timeoutMs: number): Promise<DeliveryRecord> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      github.events.off("delivery", listener);
      reject(
        new Error(
          `the repository controller registered no webhook for the demo within ${timeoutMs / 1000} s`,
        ),
      );
    }, timeoutMs);
    const listener = (at: Repo, delivery: DeliveryRecord) => {
      if (at !== repo || delivery.event !== "ping") return;
      clearTimeout(timer);
      github.events.off("delivery", listener);
      resolve(delivery);
    };
    github.events.on("delivery", listener);
  });
}

/** Creates the demo's repository, Secret and Repository, and waits until its webhook is registered. */
export async function createDemo(options: DemoOptions): Promise<Demo> {
  const { client, github, namespace } = options;
  const repo = await github.addGitRepository(DEMO.owner, DEMO.name, {
    alias: DEMO.alias,
    anonymousPush: true,
  });
  // Made up for this run: the stand-in knows the token, the webhook server and the stand-in share the secret.
  const token = `ghs_${randomBytes(18).toString("hex")}`;
  github.addToken(token, { login: DEMO.bot });
  const pinged = firstPing(github, repo, options.timeoutMs ?? 30_000);
  await client.create(resourcePath("v1", "secrets", namespace), {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "demo-github", namespace },
    stringData: { token, "webhook-secret": randomBytes(24).toString("hex") },
  });
  const repository: RepositoryInput = {
    apiVersion: API_VERSION,
    kind: "Repository",
    metadata: { name: "demo", namespace },
    spec: {
      github: { owner: DEMO.owner, name: DEMO.name },
      cloneURL: github.gitURL(DEMO.owner, DEMO.name),
      tokenSecretRef: { name: "demo-github", key: "token" },
      webhook: { secretRef: { name: "demo-github", key: "webhook-secret" } },
      ...(options.telegram && {
        notify: {
          telegram: {
            chats: options.telegram.chats,
            when: ["failure", "recovery", "success", "paused"],
            ...(options.telegram.admins.length > 0 && { admins: options.telegram.admins }),
          },
        },
      }),
    },
  };
  await client.create(resourcePath(API_VERSION, "repositories", namespace), repository);
  await pinged;
  return { repo, cloneURL: `${github.url}/${DEMO.alias}.git` };
}

/**
 * Pushes the demo pipeline to `cloneURL` with git, as a person would, from a scratch clone that is
 * removed afterwards; returns the commit. git runs without this machine's user config (no signing
 * or hooks of theirs), under the sandbox's own name.
 */
export async function pushDemoPipeline(cloneURL: string): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), "kiln-sandbox-push-"));
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "Kiln sandbox",
    GIT_AUTHOR_EMAIL: "sandbox@kiln.invalid",
    GIT_COMMITTER_NAME: "Kiln sandbox",
    GIT_COMMITTER_EMAIL: "sandbox@kiln.invalid",
  };
  const git = async (...args: string[]) => (await exec("git", args, { cwd: home, env })).stdout.trim();
  try {
    const dir = join(home, "demo");
    await git("init", "-q", "-b", "main", dir);
    await writeFile(join(dir, ".kiln.yaml"), DEMO_PIPELINE);
    await writeFile(join(dir, "README.md"), "# Kiln demo\n\nBuilt by Kiln on every push.\n");
    await git("-C", dir, "add", "-A");
    await git("-C", dir, "commit", "-q", "-m", "Demo pipeline");
    await git("-C", dir, "push", "-q", cloneURL, "main");
    return await git("-C", dir, "rev-parse", "HEAD");
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
