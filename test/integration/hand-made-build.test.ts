// A Build as a person writes it by hand — a repository and a commit of a branch, nothing else — applied with
// real kubectl: the API server defaults it (a manual trigger, the spec's defaults), the build controller
// gives it Kiln's labels and builds it through the process kubelet, and `kubectl get builds` shows its
// short commit like any other Build's.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { after, before, test } from "node:test";
import { type Harness, startHarness, waitFor } from "./build-harness.ts";

const kubectlPath = resolve(import.meta.dirname, "../../.tools/bin/kubectl");
let h: Harness;

before(async () => {
  h = await startHarness({ kubelet: true });
  await h.createRepository("app", { cancelSuperseded: false });
  await h.startController();
});
after(() => h.stop());

function kubectl(args: string[], input?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      kubectlPath,
      ["--kubeconfig", h.cluster.kubeconfigPath, "--request-timeout", "10s", ...args],
      { encoding: "utf8" },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolvePromise(stdout),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

test("a hand-written Build is defaulted, labelled, built, and listed with its short commit", {
  timeout: 90_000,
}, async () => {
  const sha = await h.repo.commit({
    ".kiln.yaml": "image: alpine:3\nsteps:\n  - {name: hello, run: echo hi}\n",
  });
  const manifest = [
    "apiVersion: kiln.dev/v1alpha1",
    "kind: Build",
    "metadata: {name: by-hand}",
    "spec:",
    "  repository: app",
    `  revision: {sha: ${sha}, branch: main}`,
    "",
  ].join("\n");
  await kubectl(["apply", "-f", "-"], manifest);

  const built = await h.waitPhase("by-hand", "Succeeded", 60_000);
  assert.deepEqual(built.spec.trigger, { event: "manual" });
  assert.equal(built.spec.revision.ref, undefined, "the ref is derived, not stored");
  assert.deepEqual(
    built.status?.steps?.map((s) => [s.name, s.phase]),
    [["hello", "Succeeded"]],
  );
  const labelled = await waitFor("Kiln's labels on the Build", async () => {
    const b = await h.getBuild("by-hand");
    return b?.metadata.labels?.["kiln.dev/commit"] ? b : undefined;
  });
  assert.deepEqual(labelled.metadata.labels, {
    "kiln.dev/repository": "app",
    "kiln.dev/branch": "main",
    "kiln.dev/commit": sha.slice(0, 7),
  });

  const table = await kubectl(["get", "builds"]);
  const [header, row] = table.trimEnd().split("\n");
  const columns = header!.split(/\s{2,}/);
  const cells = row!.split(/\s{2,}/);
  assert.deepEqual(columns.slice(0, 5), ["NAME", "REPOSITORY", "BRANCH", "COMMIT", "PHASE"], table);
  assert.deepEqual(cells.slice(0, 5), ["by-hand", "app", "main", sha.slice(0, 7), "Succeeded"], table);
  assert.match(await kubectl(["get", "builds", "-o", "wide"]), /\bmanual\b/, "the TRIGGER column");
  assert.match(await kubectl(["get", "builds", "-l", `kiln.dev/commit=${sha.slice(0, 7)}`]), /^by-hand\s/m);
});
