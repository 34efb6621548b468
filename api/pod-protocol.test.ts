import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { formatCommand, formatStop, parseEvent, stepScript } from "../agent/runner-protocol.ts";
import {
  agentContainerArgs,
  agentEnv,
  fetchContainerArgs,
  pauseMessage,
  runnerCommand,
} from "./pod-protocol.ts";

const SHA = "4f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39";

test("container args and env for the pod builder", () => {
  assert.deepEqual(
    fetchContainerArgs({ cloneURL: "https://github.com/acme/api.git", sha: SHA, withToken: true }),
    [
      "fetch",
      "--url",
      "https://github.com/acme/api.git",
      "--sha",
      SHA,
      "--workspace",
      "/workspace",
      "--kiln-dir",
      "/kiln",
      "--token-file",
      "/var/run/secrets/kiln.dev/git/token",
    ],
  );
  assert.ok(!fetchContainerArgs({ cloneURL: "u", sha: SHA, withToken: false }).includes("--token-file"));
  assert.deepEqual(agentContainerArgs(), ["agent"]);
  assert.deepEqual(runnerCommand(), ["/bin/sh", "/kiln/runner.sh"]);
  assert.deepEqual(agentEnv({ buildName: "b", branch: "main", pauseOnFailure: true }), [
    { name: "KILN_BUILD_NAME", value: "b" },
    { name: "KILN_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    { name: "KILN_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: "KILN_MANIFEST", value: ".kiln.yaml" },
    { name: "KILN_PAUSE_ON_FAILURE", value: "true" },
    { name: "KILN_FORK", value: "false" },
    { name: "KILN_BRANCH", value: "main" },
  ]);
});

test("FIFO lines: commands out, events in; junk is ignored, never thrown", () => {
  assert.equal(formatCommand({ kind: "step", index: 3 }), "step 3\n");
  assert.equal(formatStop("TERM", 3), "TERM 3\n");
  assert.equal(formatCommand({ kind: "exit", code: 1 }), "exit 1\n");
  const table: [string, ReturnType<typeof parseEvent>][] = [
    ["ready 7", { kind: "ready", pid: 7 }],
    ["start 0", { kind: "start", index: 0 }],
    ["start 0 123", undefined],
    ["done 2 130", { kind: "done", index: 2, exitCode: 130 }],
    ["done 2", undefined],
    ["ready 1 2", undefined],
    ["Terminated", undefined],
    ["", undefined],
  ];
  for (const [line, expected] of table) assert.deepEqual(parseEvent(line), expected, line);
});

test("step scripts quote env values for any POSIX shell", () => {
  const env = { A: "it's", B: 'x"$HOME`id`\\n', C: "" };
  const script = stepScript(env, 'printf "%s|%s|%s" "$A" "$B" "$C"');
  for (const sh of ["dash", "busybox"]) {
    const args = sh === "busybox" ? ["sh", "-e", "-c", script] : ["-e", "-c", script];
    assert.equal(execFileSync(sh, args).toString(), `it's|x"$HOME\`id\`\\n|`);
  }
});

test("the pause message gives the exact exec and resume commands", () => {
  const m = pauseMessage({
    pod: "p",
    namespace: "ci",
    build: "b",
    deadline: "2026-01-01T00:30:00.000Z",
    reason: "Paused.",
  });
  assert.match(m, /kubectl exec -it p -c build -n ci -- sh/);
  assert.match(m, /kubectl annotate --overwrite build b -n ci kiln\.dev\/resume=/);
  assert.match(m, /touch \/kiln\/resume/);
  assert.match(m, /2026-01-01T00:30:00\.000Z/);
});
