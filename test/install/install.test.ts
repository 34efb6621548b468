// Kiln installed as a platform engineer installs it, on a cluster as strict as a real one where an
// install lives: the test API server with RBAC and Pod Security enforced and Deployments running, the
// process kubelet running Kiln's containers in the image `npm run image` built from the Dockerfile. Only
// real kubectl touches the cluster, as the README's install section says:
//
//   kubectl apply -k <an overlay of manifests/overlays/local/ naming the local GitHub and Telegram>
//   kubectl -n kiln create secret generic kiln-telegram --from-literal=token=…
//   kubectl -n kiln rollout restart deployment kiln-controller && kubectl -n kiln rollout status …
//
// Then a team gets a namespace with nothing in it but its Secret and a Repository; a push on GitHub
// becomes a Build there, run under the agent's own account, a chat message and a commit status. Last, a
// `kubectl auth can-i` table for each of Kiln's accounts.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { stringify } from "yaml";
import type { Build } from "../../api/build.ts";
import { tailBuildLog } from "../../lib/build-log.ts";
import { StoreClient } from "../../lib/store-client.ts";
import { requireKilnImage } from "../../scripts/image-inputs.ts";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { GitRepo } from "../../stand-ins/git-repo.ts";
import { FakeGitHub } from "../../stand-ins/github/index.ts";
import { stopAll } from "../../stand-ins/teardown.ts";
import { FakeTelegram } from "../../stand-ins/telegram/server.ts";
import { waitFor } from "../wait-for.ts";

const root = resolve(import.meta.dirname, "../..");
const kubectlPath = resolve(root, ".tools/bin/kubectl");
const TEAM = "team-a";
const CHAT = -1009876;
const GITHUB_TOKEN = "ghp_install";
const WEBHOOK_SECRET = "install-webhook-secret";

let cluster: TestCluster;
let github: FakeGitHub;
let telegram: FakeTelegram;
let repo: GitRepo;
let cloneURL: string;
const scratch = mkdtempSync(join(tmpdir(), "kiln-install-"));

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    kubectlPath,
    ["--kubeconfig", cluster.kubeconfigPath, "--request-timeout", "20s", ...args],
    { encoding: "utf8", timeout: 180_000 },
  );
  return stdout;
}

/** `kubectl auth can-i` as another account: "yes" (exit 0) or "no" (exit 1). */
async function canI(account: string, ...args: string[]): Promise<"yes" | "no"> {
  try {
    await kubectl("auth", "can-i", ...args, `--as=${account}`);
    return "yes";
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (e.code === 1 && /^no/.test(e.stdout ?? "")) return "no";
    throw new Error(`kubectl auth can-i ${args.join(" ")} --as=${account}: ${e.stderr ?? error}`);
  }
}

async function apply(manifest: object): Promise<void> {
  const file = join(scratch, `manifest-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(manifest));
  await kubectl("apply", "-f", file);
}

async function builds(namespace: string): Promise<Build[]> {
  return (JSON.parse(await kubectl("get", "builds", "-n", namespace, "-o", "json")) as { items: Build[] })
    .items;
}

before(async () => {
  requireKilnImage();
  cluster = await startTestCluster({ kubelet: true });
  github = await FakeGitHub.start();
  github.addToken(GITHUB_TOKEN, { login: "kiln-bot" });
  github.addRepository("acme", "app");
  telegram = await FakeTelegram.start({ chats: [{ id: CHAT, type: "supergroup", title: "Team A" }] });
  repo = await GitRepo.create();
  cloneURL = await repo.serveHttp();
  // An overlay of the local install, as the README's install section shows: the local GitHub and Telegram.
  const overlay = join(scratch, "overlay");
  mkdirSync(overlay);
  writeFileSync(
    join(overlay, "kustomization.yaml"),
    stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      // kustomize takes bases by relative path only.
      resources: [relative(overlay, resolve(root, "manifests/overlays/local"))],
      configMapGenerator: [
        {
          name: "kiln-config",
          behavior: "merge",
          literals: [
            `KILN_GITHUB_API_URL=${github.url}`,
            `KILN_TELEGRAM_API_ROOT=${telegram.apiRoot}`,
            "KILN_PUBLIC_URL=https://kiln.example",
            "KILN_REPOSITORY_INTERVAL=5s",
          ],
        },
      ],
      generatorOptions: { disableNameSuffixHash: true },
    }),
  );
  await kubectl("apply", "-k", overlay);
  await kubectl(
    "-n",
    "kiln",
    "create",
    "secret",
    "generic",
    "kiln-telegram",
    `--from-literal=token=${telegram.token}`,
  );
  await kubectl("-n", "kiln", "rollout", "restart", "deployment", "kiln-controller");
  await kubectl("-n", "kiln", "rollout", "status", "deployment", "kiln-controller", "--timeout=150s");
  await kubectl("-n", "kiln", "rollout", "status", "deployment", "kiln-webhook", "--timeout=150s");
  await kubectl("-n", "kiln", "rollout", "status", "deployment", "kiln-store", "--timeout=150s");
});

after(() =>
  stopAll(
    () => cluster?.stop(),
    () => telegram?.stop(),
    () => github?.stop(),
    () => repo?.remove(),
    async () => rmSync(scratch, { recursive: true, force: true }),
  ),
);

describe("kubectl apply -k installs Kiln, and a team's push builds in its own namespace", () => {
  test("Kiln's pods are Ready, each under its own ServiceAccount, in the image from the Dockerfile", async () => {
    const pods = JSON.parse(await kubectl("get", "pods", "-n", "kiln", "-o", "json")) as {
      items: Array<{
        metadata: { name: string; labels: Record<string, string> };
        spec: { serviceAccountName: string; containers: Array<{ image: string }> };
        status: { phase: string; conditions?: Array<{ type: string; status: string }> };
      }>;
    };
    const running = pods.items.filter((p) => p.status.phase === "Running");
    const components = running.map((p) => p.metadata.labels["app.kubernetes.io/component"]).sort();
    assert.deepEqual(components, ["controller", "store", "webhook"]);
    for (const p of running) {
      assert.equal(p.spec.serviceAccountName, `kiln-${p.metadata.labels["app.kubernetes.io/component"]}`);
      assert.equal(p.spec.containers[0]?.image, "localhost/kiln:dev");
      assert.equal(p.status.conditions?.find((c) => c.type === "Ready")?.status, "True", p.metadata.name);
    }
  });

  test("a Repository in a new namespace, with nothing else but its Secret, builds a push end to end", async () => {
    // What a team does: a namespace (held to Pod Security "restricted"), its Secret, its Repository.
    await apply({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: TEAM, labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
    });
    await kubectl(
      "-n",
      TEAM,
      "create",
      "secret",
      "generic",
      "app-github",
      `--from-literal=token=${GITHUB_TOKEN}`,
      `--from-literal=webhook-secret=${WEBHOOK_SECRET}`,
    );
    await apply({
      apiVersion: "kiln.dev/v1alpha1",
      kind: "Repository",
      metadata: { name: "app", namespace: TEAM },
      spec: {
        github: { owner: "acme", name: "app" },
        cloneURL,
        tokenSecretRef: { name: "app-github", key: "token" },
        webhook: { secretRef: { name: "app-github", key: "webhook-secret" } },
        branches: ["main"],
        notify: { telegram: { chats: [String(CHAT)], when: ["failure", "success"] } },
      },
    });
    const [hook] = await waitFor(
      "the controller to register the webhook",
      async () => (github.hooks("acme", "app").length === 1 ? github.hooks("acme", "app") : undefined),
      60_000,
    );
    assert.equal(hook!.config.url, `http://127.0.0.1:8080/hooks/github?repository=${TEAM}%2Fapp`);
    // The controller gives the webhook its read of this namespace's webhook Secret; a delivery before that
    // would be answered 503 and redelivered, so the push waits for it.
    await waitFor(
      "the webhook's Secret read in the team's namespace",
      async () =>
        (await canI("system:serviceaccount:kiln:kiln-webhook", "get", "secret/app-github", "-n", TEAM)) ===
          "yes" || undefined,
      60_000,
    );

    const pipeline = [
      "image: alpine:3",
      "user: 1000", // non-root: the pod meets the namespace's "restricted" level
      "steps:",
      "  - {name: greet, run: 'echo \"hello from $(cat README) as $(id -u)\"'}",
      "  - {name: check, run: 'grep -q team README'}",
    ].join("\n");
    const sha = await repo.commit({ ".kiln.yaml": `${pipeline}\n`, README: "team a\n" }, "Add a pipeline");
    const { deliveries } = await github.push("acme", "app", "main", { sha, message: "Add a pipeline" });
    assert.deepEqual(
      deliveries.map((d) => d.status_code),
      [201],
      "the webhook pod accepted the delivery",
    );

    const build = await waitFor(
      "the Build to succeed",
      async () => {
        const [b] = (await builds(TEAM)).filter((x) => x.spec.revision.sha === sha);
        if (b?.status?.phase === "Failed" || b?.status?.phase === "Errored")
          throw new Error(`the Build ended ${b.status.phase}: ${b.status.message}`);
        return b?.status?.phase === "Succeeded" ? b : undefined;
      },
      120_000,
    );
    assert.deepEqual(
      build.status?.steps?.map((s) => [s.name, s.phase, s.exitCode]),
      [
        ["greet", "Succeeded", 0],
        ["check", "Succeeded", 0],
      ],
    );
    const log = await kubectl("logs", "-n", TEAM, build.status!.podName!, "-c", "build");
    assert.match(log, /hello from team a as 1000/);
    // The agent shipped the same output to the store pod, which lets the controller's account read it (as
    // the chat's /log does, with a token of its projected volume: audience kiln-store).
    const token = (
      await kubectl("create", "token", "kiln-controller", "-n", "kiln", "--audience", "kiln-store")
    ).trim();
    const store = new StoreClient({ url: "http://127.0.0.1:8081", token: () => token });
    try {
      const stored = await waitFor("the build's log in the store", async () => {
        const logs = await store.buildLogs({ namespace: TEAM, build: build.metadata.name! });
        return logs?.steps.length === 2 && logs.steps.every((x) => x.complete) ? logs : undefined;
      });
      assert.equal(stored.repository, "app");
      const text = await tailBuildLog(store, { namespace: TEAM, build: build.metadata.name! }, 10);
      assert.match(text ?? "", /==> greet\nhello from team a as 1000/);
    } finally {
      store.close();
    }

    await waitFor(
      "the final commit status",
      async () => (github.statuses("acme", "app", sha).some((s) => s.state === "success") ? true : undefined),
      60_000,
    );
    assert.deepEqual(
      github.statuses("acme", "app", sha).map((s) => s.state),
      ["pending", "success"],
    );
    const [message] = await telegram.waitForMessages(1, { chat: CHAT, timeoutMs: 30_000 });
    assert.match(message!.text, /acme\/app/);
    assert.match(message!.text, new RegExp(sha.slice(0, 7)));
  });

  test("each of Kiln's accounts can do what it must and nothing it must not", async () => {
    const webhook = "system:serviceaccount:kiln:kiln-webhook";
    const controller = "system:serviceaccount:kiln:kiln-controller";
    const agent = `system:serviceaccount:${TEAM}:kiln-build`;
    const store = "system:serviceaccount:kiln:kiln-store";
    const table: Array<[string, string[], "yes" | "no"]> = [
      // The internet-facing webhook: Repositories and new Builds; no Secret but the named webhook Secret.
      [webhook, ["list", "repositories.kiln.dev", "-A"], "yes"],
      [webhook, ["create", "builds.kiln.dev", "-n", TEAM], "yes"],
      [webhook, ["list", "secrets", "-A"], "no"],
      [webhook, ["get", "secrets", "-n", TEAM], "no"],
      [webhook, ["get", "secret/app-github", "-n", TEAM], "yes"],
      [webhook, ["get", "secret/kiln-telegram", "-n", "kiln"], "no"],
      [webhook, ["create", "pods", "-n", TEAM], "no"],
      [webhook, ["delete", "builds.kiln.dev", "-n", TEAM], "no"],
      [webhook, ["update", "builds.kiln.dev", "--subresource", "status", "-n", TEAM], "no"],
      // … and the build pages: Builds listed and watched, their logs read from the store; nothing of pods.
      [webhook, ["watch", "builds.kiln.dev", "-A"], "yes"],
      [webhook, ["get", "builds.kiln.dev", "--subresource", "log", "-n", TEAM], "yes"],
      [webhook, ["get", "pods", "-n", TEAM], "no"],
      // The controller: pods, Secrets by name only, the agent's binding and nothing it does not hold.
      [controller, ["create", "pods", "-n", TEAM], "yes"],
      [controller, ["get", "secrets", "-n", TEAM], "yes"],
      [controller, ["list", "secrets", "-A"], "no"],
      [controller, ["watch", "secrets", "-A"], "no"],
      [controller, ["update", "builds.kiln.dev", "--subresource", "finalizers", "-n", TEAM], "yes"],
      [controller, ["bind", "clusterrole/kiln-build-agent"], "yes"],
      [controller, ["bind", "clusterrole/cluster-admin"], "no"],
      [controller, ["escalate", "roles", "-n", TEAM], "no"],
      [controller, ["create", "deployments.apps", "-n", "kiln"], "no"],
      [controller, ["update", "leases.coordination.k8s.io", "-n", "kiln"], "yes"],
      [controller, ["update", "leases.coordination.k8s.io", "-n", TEAM], "no"],
      [controller, ["get", "builds.kiln.dev", "--subresource", "log", "-n", TEAM], "yes"],
      // The agent: its namespace's Builds and their status; no Secret, no pod, nothing elsewhere.
      [agent, ["watch", "builds.kiln.dev", "-n", TEAM], "yes"],
      [agent, ["patch", "builds.kiln.dev", "--subresource", "status", "-n", TEAM], "yes"],
      [agent, ["patch", "builds.kiln.dev", "--subresource", "finalizers", "-n", TEAM], "no"],
      [agent, ["update", "builds.kiln.dev", "-n", TEAM], "no"],
      [agent, ["get", "secrets", "-n", TEAM], "no"],
      [agent, ["get", "secret/app-github", "-n", TEAM], "no"],
      [agent, ["create", "pods", "-n", TEAM], "no"],
      [agent, ["get", "builds.kiln.dev", "-n", "kiln"], "no"],
      [agent, ["get", "builds.kiln.dev", "--subresource", "log", "-n", TEAM], "no"],
      // The store: token and access reviews, a pod and its Build by name; no Secret, nothing listed.
      [store, ["create", "tokenreviews.authentication.k8s.io"], "yes"],
      [store, ["create", "subjectaccessreviews.authorization.k8s.io"], "yes"],
      [store, ["get", "pods", "-n", TEAM], "yes"],
      [store, ["get", "builds.kiln.dev", "-n", TEAM], "yes"],
      [store, ["list", "pods", "-A"], "no"],
      [store, ["get", "secrets", "-n", TEAM], "no"],
      [store, ["list", "secrets", "-A"], "no"],
      [store, ["patch", "builds.kiln.dev", "--subresource", "status", "-n", TEAM], "no"],
    ];
    const rows: string[] = [];
    const wrong: string[] = [];
    for (const [account, args, expected] of table) {
      const answer = await canI(account, ...args);
      rows.push(`${answer.padEnd(3)}  ${account.split(":").slice(2).join("/").padEnd(20)} ${args.join(" ")}`);
      if (answer !== expected) wrong.push(`${account} ${args.join(" ")}: ${answer}, expected ${expected}`);
    }
    console.log(`kubectl auth can-i, per account:\n${rows.join("\n")}`);
    assert.deepEqual(wrong, []);
  });

  test("the build container has no token: no service-account volume, only the agent mounts one", async () => {
    const [build] = await builds(TEAM);
    assert.ok(build?.status?.podName);
    const pod = JSON.parse(await kubectl("get", "pod", "-n", TEAM, build.status.podName, "-o", "json")) as {
      spec: {
        automountServiceAccountToken?: boolean;
        serviceAccountName: string;
        containers: Array<{ name: string; volumeMounts?: Array<{ mountPath: string }> }>;
      };
    };
    assert.equal(pod.spec.automountServiceAccountToken, false);
    assert.equal(pod.spec.serviceAccountName, "kiln-build");
    const mountsToken = (c: { volumeMounts?: Array<{ mountPath: string }> }) =>
      (c.volumeMounts ?? []).some((m) => m.mountPath.startsWith("/var/run/secrets/kubernetes.io"));
    assert.deepEqual(
      pod.spec.containers.filter(mountsToken).map((c) => c.name),
      ["agent"],
    );
  });
});
