// Pod Security admission through HTTP and real kubectl v1.34: namespaces labelled
// pod-security.kubernetes.io/enforce|warn refuse or warn about pods exactly as kube-apiserver's PodSecurity
// plugin does (status, message, Warning headers as kubectl prints them), pod templates only warn, a
// namespace whose enforce level tightens warns about its running pods, and the server's own writes
// (its controllers) are held to the same levels.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { type RawResponse, rawRequest } from "./helpers.ts";

const root = resolve(import.meta.dirname, "../..");
const kubectlPath = resolve(root, ".tools/bin/kubectl");
const L = "pod-security.kubernetes.io/";

let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster({ applyCRDs: false });
});

after(async () => {
  await cluster.stop();
});

const req = (method: string, path: string, options: Parameters<typeof rawRequest>[3] = {}) =>
  rawRequest(cluster.server, method, path, options);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[], stdin?: string): Promise<Run> {
  const child = spawn(kubectlPath, ["--request-timeout=10s", ...args], {
    cwd: root,
    env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, HOME: process.env.HOME ?? "/tmp" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin.end(stdin ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  return new Promise((done) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    }),
  );
}

async function namespace(name: string, labels: Record<string, string>): Promise<void> {
  const r = await req("POST", "/api/v1/namespaces", { body: { metadata: { name, labels } } });
  assert.equal(r.status, 201, r.text);
}

const rootPod = (name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: { containers: [{ name: "x", image: "busybox:1.36", command: ["sleep", "1000"] }] },
});

const restrictedPod = (name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: {
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      {
        name: "x",
        image: "busybox:1.36",
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      },
    ],
  },
});

const ROOT_RESTRICTED =
  'allowPrivilegeEscalation != false (container "x" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "x" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "x" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "x" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';

function warnings(r: RawResponse): string[] {
  const header = r.headers.warning;
  if (header === undefined) return [];
  return (Array.isArray(header) ? header : [header]).flatMap((h) =>
    h.split(/,(?=\s*299 )/).map((w) => w.trim()),
  );
}

describe("over HTTP", () => {
  before(async () => {
    await namespace("psa-restricted", { [`${L}enforce`]: "restricted" });
    await namespace("psa-warn", { [`${L}warn`]: "restricted" });
  });

  test("a root pod is refused 403 naming every violated field", async () => {
    const r = await req("POST", "/api/v1/namespaces/psa-restricted/pods", { body: rootPod("root") });
    assert.equal(r.status, 403, r.text);
    assert.deepEqual(r.json(), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `pods "root" is forbidden: violates PodSecurity "restricted:latest": ${ROOT_RESTRICTED}`,
      reason: "Forbidden",
      details: { name: "root", kind: "pods" },
      code: 403,
    });
  });

  test("dry runs are evaluated too", async () => {
    const refused = await req("POST", "/api/v1/namespaces/psa-restricted/pods?dryRun=All", {
      body: rootPod("dry"),
    });
    assert.equal(refused.status, 403);
    const admitted = await req("POST", "/api/v1/namespaces/psa-restricted/pods?dryRun=All", {
      body: restrictedPod("dry"),
    });
    assert.equal(admitted.status, 201, admitted.text);
    assert.equal((await req("GET", "/api/v1/namespaces/psa-restricted/pods/dry")).status, 404);
  });

  test("a restricted pod is admitted without warnings", async () => {
    const created = await req("POST", "/api/v1/namespaces/psa-restricted/pods", {
      body: restrictedPod("ok"),
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(warnings(created), []);
  });

  test("updates of a pod that predates the level: a label change passes, an image change is checked", async () => {
    await namespace("psa-later", {});
    assert.equal(
      (await req("POST", "/api/v1/namespaces/psa-later/pods", { body: rootPod("old") })).status,
      201,
    );
    const label = await req("PATCH", "/api/v1/namespaces/psa-later", {
      body: { metadata: { labels: { [`${L}enforce`]: "restricted" } } },
      headers: { "content-type": "application/merge-patch+json" },
    });
    assert.equal(label.status, 200, label.text);
    assert.deepEqual(warnings(label), [
      '299 - "existing pods in namespace \\"psa-later\\" violate the new PodSecurity enforce level \\"restricted:latest\\""',
      '299 - "old: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile"',
    ]);
    const patch = (body: unknown) =>
      req("PATCH", "/api/v1/namespaces/psa-later/pods/old", {
        body,
        headers: { "content-type": "application/strategic-merge-patch+json" },
      });
    assert.equal((await patch({ metadata: { labels: { a: "b" } } })).status, 200);
    const image = await patch({ spec: { containers: [{ name: "x", image: "busybox:1.37" }] } });
    assert.equal(image.status, 403, image.text);
    assert.match(
      image.json().message as string,
      /^pods "old" is forbidden: violates PodSecurity "restricted:latest"/,
    );
  });

  test("warn admits with kube's Warning header", async () => {
    const r = await req("POST", "/api/v1/namespaces/psa-warn/pods", { body: rootPod("root") });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(warnings(r), [
      `299 - "would violate PodSecurity \\"restricted:latest\\": ${ROOT_RESTRICTED.replace(/"/g, '\\"')}"`,
    ]);
  });

  test("an invalid level label is refused 422 on create", async () => {
    const r = await req("POST", "/api/v1/namespaces", {
      body: { metadata: { name: "psa-bad", labels: { [`${L}enforce`]: "strict" } } },
    });
    assert.equal(r.status, 422, r.text);
    assert.equal(
      r.json().message,
      `Namespace "psa-bad" is invalid: metadata.labels[${L}enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`,
    );
  });

  test("pods the server's own controllers create are held to the level too", () => {
    const pods = cluster.server.registry.find("", "v1", "pods")!;
    assert.throws(
      () =>
        cluster.server.objects.create(pods, "psa-restricted", rootPod("from-controller"), { internal: true }),
      (e: Error & { code?: number }) =>
        e.code === 403 && e.message.includes('violates PodSecurity "restricted:latest"'),
    );
  });

  test("the audit annotations kube would log are kept", () => {
    const last = cluster.server.podSecurity.auditRecords().findLast((r) => r.namespace === "psa-warn");
    assert.equal(last?.annotations[`${L}enforce-policy`], "privileged:latest");
    const refused = cluster.server.podSecurity.auditRecords().find((r) => r.name === "root");
    assert.equal(refused?.annotations[`${L}enforce-policy`], "restricted:latest");
  });
});

describe("through kubectl", () => {
  test("a root pod in a restricted namespace is refused naming the fields", async () => {
    assert.equal((await kubectl(["create", "namespace", "k-restricted"])).code, 0);
    const label = await kubectl(["label", "namespace", "k-restricted", `${L}enforce=restricted`]);
    assert.equal(label.code, 0, label.stderr);
    const r = await kubectl(["apply", "-n", "k-restricted", "-f", "-"], JSON.stringify(rootPod("root")));
    assert.equal(r.code, 1, r.stdout);
    assert.equal(
      r.stderr.trim(),
      `Error from server (Forbidden): error when creating "STDIN": pods "root" is forbidden: violates PodSecurity "restricted:latest": ${ROOT_RESTRICTED}`,
    );
    const ok = await kubectl(
      ["apply", "-n", "k-restricted", "-f", "-"],
      JSON.stringify(restrictedPod("fine")),
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), "pod/fine created");
    assert.equal(ok.stderr, "");
  });

  test("warn-only shows kubectl's Warning line and creates the pod", async () => {
    assert.equal((await kubectl(["create", "namespace", "k-warn"])).code, 0);
    assert.equal((await kubectl(["label", "namespace", "k-warn", `${L}warn=restricted`])).code, 0);
    const r = await kubectl(["apply", "-n", "k-warn", "-f", "-"], JSON.stringify(rootPod("root")));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr.trim(),
      `Warning: would violate PodSecurity "restricted:latest": ${ROOT_RESTRICTED}`,
    );
    assert.equal(r.stdout.trim(), "pod/root created");
  });

  test("labelling a namespace with running pods warns about them", async () => {
    assert.equal((await kubectl(["create", "namespace", "k-existing"])).code, 0);
    for (const name of ["a", "b"])
      assert.equal(
        (await kubectl(["apply", "-n", "k-existing", "-f", "-"], JSON.stringify(rootPod(name)))).code,
        0,
      );
    const r = await kubectl(["label", "namespace", "k-existing", `${L}enforce=restricted`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr.trim(),
      [
        'Warning: existing pods in namespace "k-existing" violate the new PodSecurity enforce level "restricted:latest"',
        "Warning: a (and 1 other pod): allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile",
      ].join("\n"),
    );
    assert.equal(r.stdout.trim(), "namespace/k-existing labeled");
  });

  test("a Deployment whose template violates restricted is created with a warning", async () => {
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: rootPod("x").spec },
      },
    };
    const r = await kubectl(["apply", "-n", "k-restricted", "-f", "-"], JSON.stringify(deployment));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "deployment.apps/web created");
    assert.equal(
      r.stderr.trim(),
      `Warning: would violate PodSecurity "restricted:latest": ${ROOT_RESTRICTED}`,
    );
  });
});
