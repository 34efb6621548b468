// `kubectl exec` into a process-kubelet container with the real kubectl v1.34, over both streaming
// protocols it speaks (a WebSocket, and SPDY/3.1 with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false): with
// -it in a real terminal (test/pty.ts) a shell prompts, `tty` names the container's /dev/pts, `stty
// size` follows the outer terminal's window, Ctrl-C interrupts the foreground command but not the
// shell, and the shell's exit code is kubectl's; without a tty stdin, stdout and stderr stay apart.
// And containers whose spec asks for `tty` or `stdin`. Every wait has a timeout.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { text } from "node:stream/consumers";
import { after, before, describe, test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { silentLogger } from "../../lib/log.ts";
import { type Pty, spawnPty } from "../../test/pty.ts";
import { waitFor } from "../../test/wait-for.ts";
import { startTestCluster, type TestCluster } from "../cluster/start.ts";
import { type Kubelet, startKubelet } from "./kubelet.ts";
import { pidsWith } from "./pids.ts";

const KUBECTL = path.resolve(import.meta.dirname, "../../.tools/bin/kubectl");
const POD = "terminal";
let cluster: TestCluster;
let kubelet: Kubelet;
let core: CoreV1Api;

before(async () => {
  cluster = await startTestCluster({ applyCRDs: false });
  kubelet = await startKubelet({
    kubeConfig: cluster.kubeConfig,
    setPodLogSource: (source) => cluster.server.setPodLogSource(source),
    setPodExecHandler: (handler) => cluster.server.setPodExecHandler(handler),
    log: silentLogger(),
    retryMs: 200,
  });
  core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespacedPod({
    namespace: "default",
    body: {
      metadata: { name: POD },
      spec: {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 1,
        // Host-mirror mode (no such image here): the host's sh, tty, stty and sleep.
        containers: [{ name: "build", image: "busybox", command: ["sleep", "3600"], workingDir: "/tmp" }],
      },
    },
  });
  await waitFor(
    "the pod running",
    async () =>
      (await core.readNamespacedPod({ name: POD, namespace: "default" })).status?.phase === "Running",
    30_000,
  );
});

after(async () => {
  await kubelet?.stop();
  await cluster?.stop();
});

const PROTOCOLS = [
  ["WebSocket", {}],
  ["SPDY", { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false" }],
] as const;

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, KUBECONFIG: cluster.kubeconfigPath, HOME: process.env.HOME ?? "/tmp", ...extra };
}

/** `stty size` until the terminal inside says `rows columns` (a resize travels asynchronously). */
async function sizeBecomes(term: Pty, rows: number, columns: number): Promise<void> {
  await waitFor(`stty size ${rows} ${columns}`, async () => {
    term.write("stty size\r");
    const m = await term.expect(/^(\d+) (\d+)\r$/m, 5_000);
    return m[1] === String(rows) && m[2] === String(columns);
  });
}

for (const [protocol, extra] of PROTOCOLS) {
  describe(`kubectl exec over ${protocol}`, { timeout: 120_000 }, () => {
    test("-it: a terminal with a prompt, its size, Ctrl-C for the foreground command, the exit code", async () => {
      const term = spawnPty(KUBECTL, ["exec", "-it", POD, "-c", "build", "--", "sh"], {
        env: env(extra),
        columns: 91,
        rows: 27,
      });
      try {
        await term.expect(/# $/);
        term.write("tty; echo TERM=$TERM\r");
        await term.expect(/^\/dev\/pts\/\d+\r$/m);
        await term.expect(/^TERM=xterm\r$/m);
        await sizeBecomes(term, 27, 91);
        term.resize(132, 43);
        await sizeBecomes(term, 43, 132);

        // Ctrl-C reaches the foreground command (the terminal's SIGINT), and the shell stays.
        term.write("sleep 4242\r");
        await term.expect(/sleep 4242\r\n/);
        await waitFor("sleep running", () => pidsWith("sleep\u00004242").length > 0);
        term.write("\x03");
        await term.expect(/# $/);
        await waitFor("sleep gone", () => pidsWith("sleep\u00004242").length === 0);
        term.write("echo status=$?\r");
        await term.expect(/^status=130\r$/m);

        term.write("exit 3\r");
        assert.equal(await term.exit, 3, term.output);
      } finally {
        term.kill();
      }
    });

    test("-i without a tty: stdin is a pipe, stdout and stderr stay apart, the exit code", async () => {
      const child = spawn(
        KUBECTL,
        ["exec", "-i", POD, "-c", "build", "--", "sh", "-c", "tr a-z A-Z; tty; echo to-stderr >&2; exit 4"],
        { env: env(extra), stdio: ["pipe", "pipe", "pipe"] },
      );
      child.stdin.end("shout\n");
      const [out, err, code] = await Promise.all([
        text(child.stdout),
        text(child.stderr),
        new Promise((resolve) => child.on("close", resolve)),
      ]);
      assert.equal(out, "SHOUT\nnot a tty\n");
      assert.match(err, /^to-stderr\n/);
      assert.equal(code, 4, err);
    });

    test("a large output arrives whole and in order", async () => {
      const child = spawn(KUBECTL, ["exec", POD, "-c", "build", "--", "seq", "1", "300000"], {
        env: env(extra),
        stdio: ["ignore", "pipe", "pipe"],
      });
      const [out, err, code] = await Promise.all([
        text(child.stdout),
        text(child.stderr),
        new Promise((resolve) => child.on("close", resolve)),
      ]);
      assert.equal(code, 0, err);
      const lines = out.split("\n");
      assert.equal(lines.length, 300001);
      assert.ok(lines.slice(0, -1).every((line, i) => line === String(i + 1)));
    });
  });
}

describe("containers with tty or stdin in their spec", { timeout: 60_000 }, () => {
  async function logOf(
    name: string,
    containers: { name: string; tty?: boolean; stdin?: boolean }[],
    script: string,
  ) {
    await core.createNamespacedPod({
      namespace: "default",
      body: {
        metadata: { name },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          containers: containers.map((c) => ({ ...c, image: "busybox", command: ["sh", "-c", script] })),
        },
      },
    });
    await waitFor(
      `${name} succeeded`,
      async () =>
        (await core.readNamespacedPod({ name, namespace: "default" })).status?.phase === "Succeeded",
      30_000,
    );
    return Promise.all(
      containers.map(async (c) =>
        String(await core.readNamespacedPodLog({ name, namespace: "default", container: c.name })),
      ),
    );
  }

  test("tty: the process runs on a terminal of its own, everything it writes in the log as stdout", async () => {
    const [tty, plain] = await logOf(
      "spec-tty",
      [{ name: "tty", tty: true }, { name: "plain" }],
      // /dev/tty opens only for a process with a controlling terminal.
      "tty; echo TERM=$TERM; (: > /dev/tty) 2>/dev/null && echo controlling; echo to-stderr >&2",
    );
    assert.match(tty!, /^\/dev\/pts\/\d+\r\nTERM=xterm\r\ncontrolling\r\nto-stderr\r\n$/);
    // Two pipes: their lines may interleave either way in the log.
    assert.deepEqual(plain!.split("\n").sort(), ["", "TERM=", "not a tty", "to-stderr"]);
  });

  test("stdin: an open stdin (a read waits), else /dev/null (a read ends at once)", async () => {
    const [open, closed] = await logOf(
      "spec-stdin",
      [{ name: "open", stdin: true }, { name: "closed" }],
      "timeout 0.5 cat; echo cat=$?",
    );
    assert.deepEqual([open, closed], ["cat=124\n", "cat=0\n"]);
  });
});
