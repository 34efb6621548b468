// The debugging story end to end, as a person does it with real kubectl: a Build with pauseOnFailure
// fails a step, the Build turns Paused with the exact `kubectl exec` to run, the person looks around in
// the build container (the workspace and the failed step's leftovers are there), resumes with the
// annotation the message names, and the Build finishes Failed, naming the step. The exact command the
// message gives (`kubectl exec -it … -- sh`) runs in a terminal (test/pty.ts) and gets one.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { type Harness, startHarness } from "../integration/build-harness.ts";
import { spawnPty } from "../pty.ts";

const kubectlPath = resolve(import.meta.dirname, "../../.tools/bin/kubectl");
let h: Harness;

before(async () => {
  h = await startHarness({ kubelet: true });
  await h.createRepository("app");
  await h.startController();
});
after(() => h.stop());

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    kubectlPath,
    ["--kubeconfig", h.cluster.kubeconfigPath, "--request-timeout", "10s", ...args],
    { encoding: "utf8" },
  );
  return stdout;
}

test("a failed step pauses the build; kubectl exec gets in; the annotation resumes it", {
  timeout: 90_000,
}, async () => {
  const sha = await h.repo.commit({
    ".kiln.yaml": [
      "image: alpine:3",
      "steps:",
      "  - {name: generate, run: 'echo generated > output.txt'}",
      "  - {name: verify, run: 'grep -q expected output.txt'}",
      "  - {name: publish, run: 'echo never'}",
      "",
    ].join("\n"),
  });
  await h.createBuild("debug-me", { sha, spec: { pauseOnFailure: true } });
  const paused = await h.waitPhase("debug-me", "Paused", 60_000);

  // The message says exactly what to run: first without -it (plain pipes), then as given, in a terminal.
  const message = paused.status?.message ?? "";
  const exec = /kubectl exec -it (\S+) -c build -n (\S+) -- sh/.exec(message);
  assert.ok(exec, `no kubectl exec command in: ${message}`);
  const [, pod, namespace] = exec;
  assert.equal(pod, paused.status?.podName);
  const seen = await kubectl(
    "exec",
    pod!,
    "-c",
    "build",
    "-n",
    namespace!,
    "--",
    "sh",
    "-c",
    "pwd; cat output.txt",
  );
  assert.equal(seen, "/workspace\ngenerated\n");
  const term = spawnPty(
    kubectlPath,
    ["--kubeconfig", h.cluster.kubeconfigPath, ...exec[0].replace(/^kubectl /, "").split(" ")],
    { columns: 100, rows: 30 },
  );
  try {
    await term.expect(/[#$] /);
    term.write("tty; stty size; cat output.txt; exit 7\r");
    await term.expect(/^\/dev\/pts\/\d+\r\n30 100\r\ngenerated\r$/m);
    assert.equal(await term.exit, 7, term.output);
  } finally {
    term.kill();
  }
  assert.equal(
    (await h.getBuild("debug-me"))?.status?.steps?.find((s) => s.name === "verify")?.phase,
    "Paused",
    "the failed step is where the build waits",
  );

  const resume = /kubectl annotate --overwrite build (\S+) -n (\S+) (kiln\.dev\/resume)=/.exec(message);
  assert.ok(resume, `no resume command in: ${message}`);
  await kubectl(
    "annotate",
    "--overwrite",
    "build",
    resume[1]!,
    "-n",
    resume[2]!,
    `${resume[3]}=${Date.now()}`,
  );
  const failed = await h.waitPhase("debug-me", "Failed", 30_000);
  assert.match(failed.status?.message ?? "", /verify/);
  const steps = Object.fromEntries((failed.status?.steps ?? []).map((s) => [s.name, s.phase]));
  assert.deepEqual(steps, { generate: "Succeeded", verify: "Failed", publish: "Skipped" });
});
