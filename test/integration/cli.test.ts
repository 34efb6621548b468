// The people's CLI against the test cluster, run as a person runs it: the real `kiln` (bin/kiln.ts) as a
// child process with --kubeconfig, a Repository served over git's smart HTTP, the build controller, and
// the process kubelet running the build pods. kiln build resolves a branch with git ls-remote and makes a
// manual Build; kiln logs prints and follows the steps' output; kiln get lists; kiln exec gets into a
// paused build; kiln cancel and kiln rerun act as the chat's commands do; mistakes get exit codes 1 and 2
// with clear messages; and kubectl kiln runs the same CLI through bin/kubectl-kiln on PATH.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { resourcePath } from "../../lib/kube.ts";
import { writeKubeconfig } from "../../stand-ins/cluster/kubeconfig.ts";
import { type Harness, NS, startHarness } from "./build-harness.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const KILN = join(ROOT, "bin/kiln.ts");
const KUBECTL = join(ROOT, ".tools/bin/kubectl");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let h: Harness;
let tmp: string;

/** `kiln <args> --kubeconfig <the test cluster's>`, to its end. */
function kiln(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; kubeconfig?: string | null } = {},
): Promise<Run> {
  const kubeconfig = options.kubeconfig === undefined ? h.cluster.kubeconfigPath : options.kubeconfig;
  // Right after the command's name: before a `--` that may follow.
  const [command, ...rest] = args;
  const argv = [KILN, command!, ...(kubeconfig ? ["--kubeconfig", kubeconfig] : []), ...rest];
  const child = spawn(process.execPath, argv, {
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (t: string) => (stdout += t));
  child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
  return new Promise((resolvePromise) =>
    child.on("close", (code) => resolvePromise({ code, stdout, stderr })),
  );
}

const git = (...args: string[]) => promisify(execFile)("git", ["-C", h.repo.dir, ...args]);

before(async () => {
  h = await startHarness({ kubelet: true });
  tmp = await mkdtemp(join(tmpdir(), "kiln-cli-test-"));
  await h.createRepository("app", { cancelSuperseded: false });
  await h.startController();
});
after(async () => {
  await h.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe("kiln build, logs, get, rerun", { timeout: 120_000 }, () => {
  let name: string;
  let sha: string;

  before(async () => {
    sha = await h.repo.commit({
      ".kiln.yaml": [
        "image: alpine:3",
        "steps:",
        "  - {name: greet, run: 'echo hello from kiln; echo \"==> not a step\"'}",
        "  - {name: check, run: 'echo checked'}",
        "",
      ].join("\n"),
    });
  });

  test("kiln build <repository> <branch>: the branch's head, as a manual Build; its name on stdout", async () => {
    const run = await kiln(["build", "app", "main"]);
    assert.equal(run.code, 0, run.stderr);
    name = run.stdout.trim();
    assert.match(name, new RegExp(`^app-${sha.slice(0, 7)}-manual-[0-9a-f]{6}$`));
    assert.match(run.stderr, new RegExp(`kiln logs -f ${name}`));
    const build = await h.getBuild(name);
    assert.deepEqual(build?.spec.revision, { sha, branch: "main", ref: "refs/heads/main" });
    assert.deepEqual(build?.spec.trigger, { event: "manual" });
    assert.equal(build?.metadata.annotations?.["kiln.dev/requested-by"], "kubernetes:kubernetes-admin");
    assert.equal(build?.metadata.labels?.["kiln.dev/commit"], sha.slice(0, 7));
  });

  test("kiln logs -f follows it to the end: every step's output under its header; exit 0 for Succeeded", async () => {
    const run = await kiln(["logs", "-f", name]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "\n==> greet\nhello from kiln\n==> not a step\n\n==> check\nchecked\n");
    assert.match(run.stderr, new RegExp(`^${name} Succeeded after \\S+`, "m"));
  });

  test("kiln logs --step: that step's part only, a line that only looks like a header included", async () => {
    const greet = await kiln(["logs", name, "--step", "greet"]);
    assert.equal(greet.code, 0, greet.stderr);
    assert.equal(greet.stdout, "hello from kiln\n==> not a step\n");
    const check = await kiln(["logs", "app", "--step", "check"]);
    assert.equal(check.stdout, "checked\n", "a repository's name is its newest build");
    const unknown = await kiln(["logs", name, "--step", "deploy"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /has no step "deploy" \(its steps: greet, check\)/);
  });

  test("kiln get <repository>: newest first, with the steps", async () => {
    const run = await kiln(["get", "app"]);
    assert.equal(run.code, 0, run.stderr);
    const [header, row] = run.stdout.trimEnd().split("\n");
    assert.deepEqual(header!.split(/\s+/), ["NAME", "BRANCH", "COMMIT", "PHASE", "DURATION", "AGE", "STEPS"]);
    const cells = row!.split(/\s+/);
    assert.deepEqual(cells.slice(0, 4), [name, "main", sha.slice(0, 7), "Succeeded"]);
    assert.deepEqual(cells.slice(-2), ["greet:ok", "check:ok"]);
  });

  test("kiln rerun: a new Build of the same commit, saying what it repeats; it builds", async () => {
    const run = await kiln(["rerun", name]);
    assert.equal(run.code, 0, run.stderr);
    const again = run.stdout.trim();
    assert.notEqual(again, name);
    const build = await h.getBuild(again);
    assert.equal(build?.metadata.annotations?.["kiln.dev/rebuild-of"], name);
    assert.deepEqual(build?.spec.revision, { sha, branch: "main", ref: "refs/heads/main" });
    await h.waitPhase(again, "Succeeded", 60_000);
    const listed = await kiln(["get"]);
    assert.deepEqual(
      listed.stdout
        .trimEnd()
        .split("\n")
        .slice(1)
        .map((line) => line.split(/\s+/)[0]),
      [again, name],
      "newest first",
    );
  });
});

describe("a paused build: kiln exec, kiln cancel", { timeout: 120_000 }, () => {
  let name: string;
  let following: Promise<Run>;

  before(async () => {
    await git("checkout", "-q", "-b", "feature");
    await h.repo.commit({
      ".kiln.yaml": [
        "image: alpine:3",
        "steps:",
        "  - {name: generate, run: 'echo generated > output.txt'}",
        "  - {name: verify, run: 'echo verifying; exit 4'}",
        "",
      ].join("\n"),
    });
    await git("checkout", "-q", "main");
  });

  test("kiln build --pause-on-failure; kiln logs -f waits through the pause", async () => {
    const run = await kiln(["build", "app", "feature", "--pause-on-failure"]);
    assert.equal(run.code, 0, run.stderr);
    name = run.stdout.trim();
    assert.equal((await h.getBuild(name))?.spec.pauseOnFailure, true);
    following = kiln(["logs", "-f", name]);
    await h.waitPhase(name, "Paused", 60_000);
  });

  test("kiln exec runs a command in the build container, in the workspace; its exit code is kiln's", async () => {
    const look = await kiln(["exec", name, "--", "sh", "-c", "pwd; cat output.txt"]);
    assert.equal(look.code, 0, look.stderr);
    assert.equal(look.stdout, "/workspace\ngenerated\n");
    const failing = await kiln(["exec", name, "--", "sh", "-c", "echo oops >&2; exit 3"]);
    assert.equal(failing.code, 3);
    assert.equal(failing.stderr, "oops\n");
  });

  test("kiln cancel stops it as the chat does (spec.cancel, who asked); kiln logs -f ends with exit 1", async () => {
    const run = await kiln(["cancel", name]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^Cancelling ${name}\\.`));
    const build = await h.waitPhase(name, "Cancelled", 30_000);
    assert.equal(build.spec.cancel, true);
    assert.equal(build.metadata.annotations?.["kiln.dev/requested-by"], "kubernetes:kubernetes-admin");
    const followed = await following;
    assert.equal(followed.code, 1, followed.stderr);
    assert.match(followed.stdout, /==> verify\nverifying\n/);
    assert.match(followed.stderr, new RegExp(`${name} is Paused: `));
    assert.match(followed.stderr, new RegExp(`^${name} Cancelled`, "m"));
    const again = await kiln(["cancel", name]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`${name} is already over \\(Cancelled\\)`));
    const exec = await kiln(["exec", name]);
    assert.equal(exec.code, 1);
    assert.match(exec.stderr, /is Cancelled: it has no running build container any more/);
  });
});

describe("mistakes and refusals", { timeout: 60_000 }, () => {
  test("usage: exit 2 with the usage line; --help: exit 0", async () => {
    const run = await kiln(["logs"]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^kiln logs: expected a build/);
    assert.match(run.stderr, /Usage: kiln logs <build>/);
    const unknown = await kiln(["get", "--colour"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown option '--colour'/);
    const help = await kiln(["exec", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes: the command's own/);
  });

  test("not found: exit 1 saying where it looked", async () => {
    const build = await kiln(["logs", "nope"]);
    assert.equal(build.code, 1);
    assert.match(build.stderr, /^kiln logs: no build "nope" in namespace default/);
    const repository = await kiln(["build", "nope", "main"]);
    assert.equal(repository.code, 1);
    assert.match(repository.stderr, /^kiln build: no repository "nope" in namespace default/);
    const branch = await kiln(["build", "app", "no-such-branch"]);
    assert.equal(branch.code, 1);
    assert.match(branch.stderr, /has no branch or tag "no-such-branch"/);
  });

  test("no kubeconfig at all: exit 1, saying how to give one", async () => {
    const run = await kiln(["get"], { kubeconfig: null, env: { PATH: process.env.PATH, HOME: tmp } });
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      "kiln get: no kubeconfig: pass --kubeconfig <file>, set KUBECONFIG, or create ~/.kube/config\n",
    );
  });

  test("forbidden: the API server's own sentence, exit 1", async () => {
    // A ServiceAccount nobody granted anything: what a person without access to Builds is.
    await h.client.create(resourcePath("v1", "serviceaccounts", NS), { metadata: { name: "nobody" } });
    const request = await h.client.create<{ status: { token: string } }>(
      `${resourcePath("v1", "serviceaccounts", NS, "nobody")}/token`,
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
    );
    const kubeconfig = join(tmp, "nobody.kubeconfig");
    await writeKubeconfig(kubeconfig, {
      server: h.cluster.url,
      caPem: h.cluster.server.caPem,
      token: request.status.token,
    });
    const run = await kiln(["get"], { kubeconfig });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^kiln get: builds.kiln.dev is forbidden: User "system:serviceaccount:default:nobody" cannot list resource "builds" in API group "kiln.dev" in the namespace "default"\n$/,
    );
  });
});

describe("kubectl kiln", { timeout: 60_000 }, () => {
  test("bin/kubectl-kiln on PATH (a symlink) is a kubectl plugin running the CLI with Node 24", async () => {
    const bin = join(tmp, "bin");
    await promisify(execFile)("mkdir", ["-p", bin]);
    await symlink(join(ROOT, "bin/kubectl-kiln"), join(bin, "kubectl-kiln"));
    // The machine's own PATH first: whatever node is there (20 here) is not the one that runs.
    const env = { ...process.env, PATH: `${bin}:/usr/local/bin:/usr/bin:/bin` };
    const run = (...args: string[]) => promisify(execFile)(KUBECTL, args, { env, encoding: "utf8" });
    const help = await run("kiln", "--help");
    assert.match(help.stdout, /^ {2}kiln logs +what a build's steps printed/m);
    const get = await run("kiln", "get", "app", "--kubeconfig", h.cluster.kubeconfigPath);
    assert.match(get.stdout, /^NAME\s+BRANCH\s+COMMIT\s+PHASE/);
    const plugins = await run("plugin", "list");
    assert.match(plugins.stdout, /kubectl-kiln/);
  });
});
