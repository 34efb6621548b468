#!/usr/bin/env node
// The one CLI: every role of Kiln is a subcommand of the same program (and image).
// Each subcommand module exports `main(args): Promise<number>` and is loaded only when used.

import { existsSync } from "node:fs";

type Command = {
  summary: string;
  load: () => Promise<{ main: (args: string[]) => Promise<number> }>;
  /** Whether this installation has the command (the image carries no sandbox). */
  available?: () => boolean;
  /** A command for people, against the cluster of their kubeconfig. */
  people?: true;
};

const COMMANDS: Record<string, Command> = {
  run: {
    summary: "run the .kiln.yaml pipeline of a directory in the local shell (no cluster needed)",
    load: () => import("../agent/run-command.ts"),
  },
  agent: {
    summary:
      "the build pod's sidecar: drive the steps of .kiln.yaml through the runner, record them in Build.status",
    load: () => import("../agent/agent-command.ts"),
  },
  fetch: {
    summary: "the build pod's init container: shallow-fetch one commit into /workspace, set up /kiln",
    load: () => import("../agent/fetch.ts"),
  },
  controller: {
    summary: "run the controllers (builds, repositories, reporting) behind one leader election",
    load: () => import("../controllers/main.ts"),
  },
  webhook: {
    summary: "receive GitHub deliveries on POST /hooks/github and create Builds",
    load: () => import("../webhook/main.ts"),
  },
  store: {
    summary: "keep build logs and caches for build pods, the CLI and the chat (files or S3)",
    load: () => import("../store/main.ts"),
  },
  sandbox: {
    summary:
      "all of Kiln on one machine, no cluster: API server, process kubelet, controllers, webhook, a demo",
    load: () => import("../sandbox/sandbox.ts"),
    // The sandbox runs the stand-ins (local API server, process kubelet, GitHub, Telegram), which the image does not carry.
    available: () => existsSync(new URL("../sandbox/sandbox.ts", import.meta.url)),
  },
  build: {
    summary: "build a repository's branch, tag or commit now (a manual Build); prints its name",
    load: () => import("../cli/build-command.ts"),
    people: true,
  },
  get: {
    summary: "builds (of a repository), newest first, with their steps",
    load: () => import("../cli/get-command.ts"),
    people: true,
  },
  logs: {
    summary: "what a build's steps printed; -f follows it to the end, --step <name> one step",
    load: () => import("../cli/logs-command.ts"),
    people: true,
  },
  exec: {
    summary: "a shell (or a command) in a paused build's build container",
    load: () => import("../cli/exec-command.ts"),
    people: true,
  },
  rerun: {
    summary: "build a build's commit again",
    load: () => import("../cli/rerun-command.ts"),
    people: true,
  },
  cancel: {
    summary: "stop a build",
    load: () => import("../cli/cancel-command.ts"),
    people: true,
  },
};

const offered = () => Object.entries(COMMANDS).filter(([, c]) => c.available?.() ?? true);

function usage(): string {
  const width = Math.max(...offered().map(([name]) => name.length));
  const lines = (people: boolean) =>
    offered()
      .filter(([, c]) => (c.people ?? false) === people)
      .map(([name, c]) => `  kiln ${name.padEnd(width)}  ${c.summary}`)
      .join("\n");
  return [
    "Usage: kiln <command> [options]",
    `Commands:\n${lines(false)}`,
    `Builds on your cluster (your kubeconfig's; also as kubectl kiln <command> with bin/kubectl-kiln on PATH;\nexit codes 0 done, 1 failed, 2 wrong usage):\n${lines(true)}`,
    "Run kiln <command> --help for a command's options.",
  ].join("\n\n");
}

async function run(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = offered().find(([n]) => n === name)?.[1];
  if (!command) {
    console.error(`kiln: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  return module.main(args);
}

process.exitCode = await run(process.argv.slice(2));
