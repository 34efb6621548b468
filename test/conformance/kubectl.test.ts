// Conformance of the test API server through real kubectl v1.34 (.tools/bin/kubectl, installed by
// npm ci's postinstall): apply, get with printer columns, get -w, delete waiting for finalizers,
// explain, pods, logs, describe with Events. Every command has a request timeout and a kill timer.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { buildBody, waitFor } from "./helpers.ts";

const root = resolve(import.meta.dirname, "../..");
const kubectl = resolve(root, ".tools/bin/kubectl");

let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster({ applyCRDs: false });
});

after(async () => {
  await cluster.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<Run>;
}

function start(args: string[], killAfterMs = 20_000): Running {
  const child = spawn(kubectl, args, {
    cwd: root,
    env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, HOME: process.env.HOME ?? "/tmp" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  const done = new Promise<Run>((resolveRun) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout: out, stderr: err });
    });
  });
  return { child, stdout: () => out, stderr: () => err, done };
}

async function run(...args: string[]): Promise<Run> {
  return start(["--request-timeout=10s", ...args]).done;
}

async function ok(...args: string[]): Promise<string> {
  const r = await run(...args);
  assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The words of a table's header line. */
function header(output: string): string[] {
  return output
    .split("\n")[0]!
    .trim()
    .split(/\s{2,}/);
}

describe("kubectl", { skip: !existsSync(kubectl) && "kubectl is not installed (npm ci installs it)" }, () => {
  test("applies the CRDs and the example Repository", async () => {
    // Each CRD file with -f (the directory also holds a kustomization.yaml, which no server serves).
    const crds = await ok(
      "apply",
      "-f",
      "manifests/crds/builds.kiln.dev.yaml",
      "-f",
      "manifests/crds/repositories.kiln.dev.yaml",
    );
    assert.match(crds, /customresourcedefinition.apiextensions.k8s.io\/builds.kiln.dev created/);
    assert.match(crds, /customresourcedefinition.apiextensions.k8s.io\/repositories.kiln.dev created/);
    const applied = await ok("apply", "-f", "manifests/examples/repository.yaml");
    assert.match(applied, /secret\/acme-api-github created/);
    assert.match(applied, /repository.kiln.dev\/api created/);
    // kubectl reads YAML 1.1, so the field is named `when` (a bare `on:` key would arrive as `true`).
    const when = await ok("get", "repository", "api", "-o", "jsonpath={.spec.notify.telegram.when}");
    assert.equal(when, '["failure","recovery"]');
    const again = await ok("apply", "-f", "manifests/examples/repository.yaml");
    assert.match(again, /repository.kiln.dev\/api unchanged/);
    // kubectl re-sends a Secret's stringData (the live object only has data), so kube says "configured".
    assert.match(again, /secret\/acme-api-github configured/);
    await ok("apply", "-f", "manifests/examples/build.yaml");
  });

  test("api-resources (aggregated discovery) lists Kiln's resources with short names and categories", async () => {
    const text = await ok("api-resources", "--api-group=kiln.dev", "-o", "wide");
    assert.match(
      text,
      /^builds\s+bld\s+kiln\.dev\/v1alpha1\s+true\s+Build\s+create,delete,deletecollection,get,list,patch,update,watch\s+kiln$/m,
    );
    assert.match(text, /^repositories\s+repo\s+kiln\.dev\/v1alpha1\s+true\s+Repository\s/m);
  });

  test("get repositories,builds shows the printer columns", async () => {
    const both = await ok("get", "repositories,builds");
    assert.match(both, /repository.kiln.dev\/api\s+acme\s+api\s/);
    assert.match(both, /build.kiln.dev\/api-main-4f2c1a9\s+api\s+main\s+4f2c1a9\s/);
    const builds = await ok("get", "builds");
    assert.deepEqual(header(builds), ["NAME", "REPOSITORY", "BRANCH", "COMMIT", "PHASE", "DURATION", "AGE"]);
    assert.match(builds.split("\n")[1]!, /^api-main-4f2c1a9\s+api\s+main\s+4f2c1a9\s+\d+s$/);
    const wide = await ok("get", "builds", "-o", "wide");
    assert.deepEqual(header(wide), [
      "NAME",
      "REPOSITORY",
      "BRANCH",
      "COMMIT",
      "PHASE",
      "DURATION",
      "AGE",
      "TRIGGER",
      "MESSAGE",
    ]);
    const byShortName = await ok("get", "bld", "-o", "name");
    assert.equal(byShortName.trim(), "build.kiln.dev/api-main-4f2c1a9");
    const category = await ok("get", "kiln", "-o", "name");
    assert.deepEqual(category.trim().split("\n").sort(), [
      "build.kiln.dev/api-main-4f2c1a9",
      "repository.kiln.dev/api",
    ]);
  });

  test("get builds -w sees a change", async () => {
    const watch = start(["get", "builds", "-w", "--request-timeout=15s"], 15_000);
    try {
      await waitFor("the initial row", () => watch.stdout().includes("api-main-4f2c1a9"), 10_000);
      await ok(
        "patch",
        "build",
        "api-main-4f2c1a9",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"phase":"Running"}}',
      );
      await waitFor(
        "the Running row",
        () => /api-main-4f2c1a9\s+api\s+main\s+4f2c1a9\s+Running/.test(watch.stdout()),
        10_000,
      );
    } finally {
      watch.child.kill("SIGTERM");
      await watch.done;
    }
  });

  test("delete waits while a finalizer is present", async () => {
    await ok(
      "patch",
      "build",
      "api-main-4f2c1a9",
      "--type=merge",
      "-p",
      '{"metadata":{"finalizers":["kiln.dev/test"]}}',
    );
    const deleting = start(
      ["delete", "build", "api-main-4f2c1a9", "--timeout=20s", "--request-timeout=20s"],
      25_000,
    );
    await waitFor(
      "deletionTimestamp",
      async () =>
        (await ok("get", "build", "api-main-4f2c1a9", "-o", "jsonpath={.metadata.deletionTimestamp}")) !== "",
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(deleting.child.exitCode, null, "kubectl delete still waits");
    await ok("patch", "build", "api-main-4f2c1a9", "--type=merge", "-p", '{"metadata":{"finalizers":null}}');
    const result = await deleting.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /build.kiln.dev "api-main-4f2c1a9" deleted/);
    const gone = await run("get", "build", "api-main-4f2c1a9");
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /builds.kiln.dev "api-main-4f2c1a9" not found/);
  });

  test("kubectl sees pruning, validation and conflicts as kube reports them", async () => {
    const { writeFile, mkdtemp } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(`${tmpdir()}/kiln-kubectl-`);
    const manifest = (name: string, spec: Record<string, unknown>) =>
      JSON.stringify({ ...buildBody(name), spec: { ...buildBody(name).spec, ...spec } });
    await writeFile(`${dir}/unknown.json`, manifest("unknown-field", { color: "blue" }));
    const strict = await run("apply", "-f", `${dir}/unknown.json`);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /strict decoding error: unknown field "spec.color"/);
    const warned = await run("apply", "--validate=warn", "-f", `${dir}/unknown.json`);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /Warning: unknown field "spec.color"/);
    assert.equal(await ok("get", "build", "unknown-field", "-o", "jsonpath={.spec.color}"), "", "pruned");

    await writeFile(
      `${dir}/invalid.json`,
      manifest("invalid-sha", { revision: { sha: "nope", ref: "refs/heads/main" } }),
    );
    const invalid = await run("apply", "-f", `${dir}/invalid.json`);
    assert.equal(invalid.code, 1);
    assert.match(
      invalid.stderr,
      /The Build "invalid-sha" is invalid: spec.revision.sha: Invalid value: "nope"/,
    );

    const live = JSON.parse(await ok("get", "build", "unknown-field", "-o", "json")) as Record<
      string,
      unknown
    >;
    await ok("label", "build", "unknown-field", "moved=on");
    await writeFile(`${dir}/stale.json`, JSON.stringify(live));
    const stale = await run("replace", "-f", `${dir}/stale.json`);
    assert.equal(stale.code, 1);
    assert.match(
      stale.stderr,
      /Operation cannot be fulfilled on builds.kiln.dev "unknown-field": the object has been modified/,
    );
  });

  test("explain builds.spec", async () => {
    const text = await ok("explain", "builds.spec");
    assert.match(text, /KIND:\s+Build/);
    assert.match(text, /repository\s+<string> -required-/);
    assert.match(text, /revision\s+<Object> -required-/);
  });

  test("pods: get, logs", async () => {
    await ok("run", "hello", "--image=busybox:1.36", "--restart=Never", "--", "echo", "hi");
    const pods = await ok("get", "pods");
    assert.deepEqual(header(pods), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert.match(pods, /hello\s+0\/1\s+Pending\s+0\s/);
    cluster.server.setPodLogSource((namespace, pod, container, options) =>
      namespace === "default" && pod === "hello" && container === "hello" && !options.follow
        ? Readable.from([`hi from ${container}\n`])
        : undefined,
    );
    try {
      assert.equal(await ok("logs", "hello"), "hi from hello\n");
    } finally {
      cluster.server.setPodLogSource(undefined);
    }
  });

  test("exec runs a command through the pod exec handler, with stdin and the exit code", async () => {
    const seen: unknown[] = [];
    cluster.server.setPodExecHandler((request) => {
      seen.push(request);
      if (request.pod !== "hello") return undefined;
      // A stand-in for the process kubelet: run the command here, without a sandbox.
      const child = spawn(request.command[0]!, request.command.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
      return {
        stdin: request.stdin ? child.stdin! : undefined,
        stdout: child.stdout!,
        stderr: child.stderr!,
        exit: new Promise<number>((resolveExit) => child.on("close", (code) => resolveExit(code ?? 1))),
        kill: () => child.kill("SIGKILL"),
      };
    });
    try {
      assert.equal(await ok("exec", "hello", "--", "echo", "from", "exec"), "from exec\n");
      assert.deepEqual(seen.at(-1), {
        namespace: "default",
        pod: "hello",
        container: "hello",
        command: ["echo", "from", "exec"],
        stdin: false,
        stdout: true,
        stderr: true,
        tty: false,
      });
      const failing = await run("exec", "hello", "--", "sh", "-c", "echo oops >&2; exit 3");
      assert.equal(failing.code, 3);
      assert.match(failing.stderr, /oops/);
      const piped = start(["exec", "-i", "hello", "--", "tr", "a-z", "A-Z"]);
      piped.child.stdin?.end("shout\n");
      const result = await piped.done;
      assert.equal(result.stdout, "SHOUT\n", result.stderr);
    } finally {
      cluster.server.setPodExecHandler(undefined);
    }
    const notRunning = await run("exec", "hello", "--", "true");
    assert.notEqual(notRunning.code, 0);
  });

  test("describe build shows its Events", async () => {
    const { objects, registry } = cluster.server;
    const builds = registry.find("kiln.dev", "v1alpha1", "builds")!;
    const build = objects.create(builds, "default", buildBody("described")).object;
    const events = registry.find("events.k8s.io", "v1", "events")!;
    objects.create(events, "default", {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "described.1" },
      eventTime: new Date().toISOString().replace("Z", "000Z"),
      reportingController: "kiln.dev/build-controller",
      reportingInstance: "controller-0",
      action: "Create",
      reason: "PodCreated",
      type: "Normal",
      note: "Created pod described-pod",
      regarding: {
        apiVersion: "kiln.dev/v1alpha1",
        kind: "Build",
        name: "described",
        namespace: "default",
        uid: build.metadata.uid,
      },
    });
    const text = await ok("describe", "build", "described");
    assert.match(text, /Name:\s+described/);
    assert.match(text, /Events:/);
    assert.match(text, /Normal\s+PodCreated\s+.*Created pod described-pod/);
  });

  test("create namespace, secret, serviceaccount and token (protobuf bodies)", async () => {
    assert.match(await ok("create", "namespace", "team"), /namespace\/team created/);
    await ok("create", "secret", "generic", "gh", "-n", "team", "--from-literal=token=s3cret");
    assert.equal(
      await ok("get", "secret", "gh", "-n", "team", "-o", "jsonpath={.data.token}"),
      Buffer.from("s3cret").toString("base64"),
    );
    await ok("create", "serviceaccount", "robot", "-n", "team");
    const token = (await ok("create", "token", "robot", "-n", "team", "--duration=1h")).trim();
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { sub: string };
    assert.equal(claims.sub, "system:serviceaccount:team:robot");
    assert.match(await ok("delete", "namespace", "team"), /namespace "team" deleted/);
  });

  test("the install manifests apply cleanly (strict server-side validation)", async () => {
    const applied = await ok("apply", "-k", "manifests/");
    assert.match(applied, /deployment.apps\/kiln-controller created/);
    assert.match(applied, /clusterrole.rbac.authorization.k8s.io\/kiln-controller created/);
    assert.match(applied, /service\/kiln-webhook created/);
    const again = await ok("apply", "-k", "manifests/");
    assert.match(again, /deployment.apps\/kiln-controller unchanged/);
  });

  test("auth can-i and auth whoami (the admin is in system:masters: everything is allowed)", async () => {
    assert.equal((await ok("auth", "can-i", "delete", "builds")).trim(), "yes");
    assert.match(await ok("auth", "whoami"), /Username\s+kubernetes-admin/);
  });

  test("a wrong token is Unauthorized", async () => {
    const r = await run("--token=wrong", "get", "builds");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Unauthorized/);
  });
});
