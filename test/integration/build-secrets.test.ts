// .kiln.yaml secrets end to end: a Secret in the namespace, a build whose steps print it, through the
// build controller and the process kubelet (which resolves secretKeyRef and writes the agent's Secret
// volume as a kubelet does). The value never shows: not in the build container's log as the API serves it
// (`kubectl logs -c build`), not in status.steps; a fork's build has no such variable and its pod no
// reference; a missing Secret fails the Build before any step; the agent's account cannot read Secrets.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { KubeConfig, type V1Pod } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";
import { ANNOTATIONS } from "../../api/group.ts";
import { readBuildLog } from "../../lib/build-log.ts";
import { KubeClient, resourcePath } from "../../lib/kube.ts";
import { StoreClient } from "../../lib/store-client.ts";
import { requireKilnImage } from "../../scripts/image-inputs.ts";
import { AGENT_SERVICE_ACCOUNT } from "../../stand-ins/cluster/build-agent-access.ts";
import { type Harness, NS, podPath, startHarness, waitFor } from "./build-harness.ts";

const TOKEN = "npm_s3cr3t-T0ken-value";
const KEY = "-----BEGIN TEST KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n-----END TEST KEY-----\n";

const MANIFEST = [
  "image: node:24",
  "secrets:",
  "  - {env: NPM_TOKEN, secretRef: {name: npm, key: token}}",
  "  - {env: DEPLOY_KEY, secretRef: {name: npm, key: deploy-key}}",
  "steps:",
  `  - {name: show, run: 'echo "set: \${NPM_TOKEN+yes}"; echo "token=$NPM_TOKEN"; printf "%s" "$DEPLOY_KEY"'}`,
  "  - {name: leak, run: 'echo \"again: $NPM_TOKEN\"; exit 4'}",
  "",
].join("\n");

let h: Harness;

before(async () => {
  // The masking is the agent's, which runs from Kiln's image: one older than this checkout would test old code.
  requireKilnImage();
  h = await startHarness({ kubelet: true, store: true });
  await h.createRepository("app", { concurrency: 4, cancelSuperseded: false });
  await h.client.create(resourcePath("v1", "secrets", NS), {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "npm" },
    data: {
      token: Buffer.from(TOKEN).toString("base64"),
      "deploy-key": Buffer.from(KEY).toString("base64"),
    },
  });
  await h.startController();
});
after(() => h.stop());

/** The build container's log as the API serves it (kubectl logs <pod> -c build). */
async function buildLog(pod: string): Promise<string> {
  const res = await h.client.stream(`${podPath(pod)}/log`, { container: "build" });
  let text = "";
  for await (const chunk of res) text += chunk;
  return text;
}

async function finished(name: string, phase: string): Promise<{ build: Build; pod: V1Pod; log: string }> {
  const build = await h.waitPhase(name, phase, 60_000).catch(async (e) => {
    console.error(JSON.stringify((await h.getBuild(name))?.status, null, 1));
    throw e;
  });
  const pod = (await h.getPod(build.status!.podName!))!;
  return { build, pod, log: await buildLog(pod.metadata!.name!) };
}

function secretRefs(pod: V1Pod) {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].flatMap((c) =>
    (c.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => `${c.name}:${e.name}`),
  );
}

describe("secrets through the process kubelet", { timeout: 120_000 }, () => {
  test("the steps get them; the log and the step records show *** instead", async () => {
    const sha = await h.repo.commit({ ".kiln.yaml": MANIFEST });
    await h.createBuild("secrets-ok", { sha });
    const { build, pod, log } = await finished("secrets-ok", "Failed");
    assert.match(build.status?.message ?? "", /step "leak" failed with exit code 4/);
    assert.deepEqual(secretRefs(pod), ["build:NPM_TOKEN", "build:DEPLOY_KEY"]);
    assert.match(log, /==> show\nset: yes\ntoken=\*\*\*\n\*\*\*/);
    assert.match(log, /==> leak\nagain: \*\*\*\n/);
    const leak = build.status!.steps!.find((s) => s.name === "leak")!;
    assert.match(leak.message ?? "", /last output:\nagain: \*\*\*/);
    // The store's copy of the log: the same masked bytes (the pump masks before it hands chunks over).
    const reader = new StoreClient({ url: h.store!.url, token: () => h.cluster.server.tokens.adminToken });
    const stored = await waitFor("the log complete in the store", async () => {
      const steps = await reader.steps({ namespace: NS, build: "secrets-ok" });
      if (steps.length !== 2 || !steps.every((s) => s.complete)) return undefined;
      const whole = await readBuildLog(reader, { namespace: NS, build: "secrets-ok" });
      let text = "";
      for await (const chunk of whole!) text += chunk;
      return text;
    });
    reader.close();
    assert.match(stored, /==> show\nset: yes\ntoken=\*\*\*\n\*\*\*/);
    assert.match(stored, /==> leak\nagain: \*\*\*\n/);
    for (const value of [TOKEN, "MIIBOgIBAAJBAKj34GkxFhD9"]) {
      assert.ok(!log.includes(value), `the value is in the log:\n${log}`);
      assert.ok(!stored.includes(value), `the value is in the store's log:\n${stored}`);
      assert.ok(!JSON.stringify(build.status).includes(value), "the value is in the Build's status");
      assert.ok(!JSON.stringify(pod).includes(value), "the value is in the pod");
    }
  });

  test("a fork's pull request: no variable in the steps, no reference in its pod", async () => {
    const sha = await h.repo.commit({ ".kiln.yaml": MANIFEST.replace("exit 4", "exit 0") });
    const created = await h.createBuild("secrets-fork", {
      sha,
      spec: { trigger: { event: "pull_request", pullRequest: { number: 12, fork: true } } },
    });
    await h.client.mergePatch(resourcePath(created.apiVersion, "builds", NS, "secrets-fork"), {
      metadata: { annotations: { [ANNOTATIONS.approvedBy]: "test" } },
    });
    const { pod, log } = await finished("secrets-fork", "Succeeded");
    assert.deepEqual(secretRefs(pod), []);
    assert.equal(
      pod.spec!.volumes!.find((v) => v.name === "secrets"),
      undefined,
    );
    assert.match(log, /==> show\nset: \ntoken=\n/);
  });

  test("a missing Secret fails the Build before any step ran, naming the entry", async () => {
    const sha = await h.repo.commit({
      ".kiln.yaml":
        "image: node:24\nsecrets:\n  - {env: GONE, secretRef: {name: nowhere, key: k}}\nsteps:\n  - {name: a, run: echo ran}\n",
    });
    await h.createBuild("secrets-missing", { sha });
    const build = await h.waitPhase("secrets-missing", "Failed", 60_000);
    assert.equal(build.status?.reason, "SecretMissing");
    assert.equal(
      build.status?.message,
      '.kiln.yaml: secrets[0] (GONE) needs Secret "nowhere", which is not in namespace default; no step ran',
    );
    assert.ok(!build.status?.steps?.some((s) => s.name === "a" && s.phase !== "Pending"));
  });

  test("a missing key of a Secret that is there: the same, naming the key", async () => {
    const sha = await h.repo.commit({
      ".kiln.yaml":
        "image: node:24\nsecrets:\n  - {env: NOPE, secretRef: {name: npm, key: nope}}\nsteps:\n  - {name: a, run: echo ran}\n",
    });
    await h.createBuild("secrets-no-key", { sha });
    const build = await h.waitPhase("secrets-no-key", "Failed", 60_000);
    assert.equal(build.status?.reason, "SecretMissing");
    assert.equal(
      build.status?.message,
      '.kiln.yaml: secrets[0] (NOPE) needs key "nope" of Secret "npm", which has no such key; no step ran',
    );
  });

  test("the agent's account cannot read the Secret (the kubelet reads it, for the agent's volume)", async () => {
    const request = await h.client.create<{ status: { token: string } }>(
      `${resourcePath("v1", "serviceaccounts", NS, AGENT_SERVICE_ACCOUNT)}/token`,
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 600 } },
    );
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        { name: "c", server: h.cluster.url, caData: Buffer.from(h.cluster.server.caPem).toString("base64") },
      ],
      users: [{ name: "agent", token: request.status.token }],
      contexts: [{ name: "agent", cluster: "c", user: "agent" }],
      currentContext: "agent",
    });
    const agent = new KubeClient(kc);
    try {
      await assert.rejects(agent.get(resourcePath("v1", "secrets", NS, "npm")), { code: 403 });
    } finally {
      agent.close();
    }
  });
});
