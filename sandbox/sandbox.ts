// `kiln sandbox`: the whole of Kiln on one machine, no cluster needed. The test API server (with Kiln's
// CRDs) and the process kubelet stand in for Kubernetes; `kiln controller` and `kiln webhook` run
// in-process against them exactly as they would against a cluster. A demo repository (real git, served
// over HTTP on 127.0.0.1) gets one Build at start, so there is something to look at right away.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { API_VERSION } from "../api/group.ts";
import { parseControllerConfig } from "../controllers/config.ts";
import { MODULES, runControllers } from "../controllers/main.ts";
import { KubeClient, resourcePath } from "../lib/kube.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { KILN_IMAGE } from "../scripts/image-inputs.ts";
import { installBuildAgentClusterRole } from "../stand-ins/cluster/build-agent-access.ts";
import { parsePort, untilSignal } from "../stand-ins/cluster/main.ts";
import { startTestCluster, type TestCluster } from "../stand-ins/cluster/start.ts";
import { GitRepo } from "../stand-ins/git-repo.ts";
import { stopAll } from "../stand-ins/teardown.ts";
import { webhookConfig } from "../webhook/config.ts";
import { startWebhook } from "../webhook/main.ts";

const USAGE = `Usage: kiln sandbox [options]

Starts Kiln on this machine: a Kubernetes API server with Kiln's CRDs, a process kubelet that runs
pods as local processes, the controllers and the webhook server. Stop it with Ctrl-C.

Options:
  --port <port>          API server port on 127.0.0.1 (6443; 0 for any)
  --kubeconfig <file>    where to write the kubeconfig (kiln-sandbox.kubeconfig)
  --webhook-port <port>  webhook server port on 127.0.0.1 (8080; 0 for any)
  --no-demo              do not create the demo Repository and its Build
  --log-level <level>    log level of the components, JSON on stderr (warn)

Controller settings come from the environment as for kiln controller (KILN_GITHUB_API_URL,
KILN_TELEGRAM_TOKEN, KILN_TELEGRAM_API_ROOT, …).`;

const NAMESPACE = "default";
const DEMO_PIPELINE = `# The sandbox's demo pipeline: edit it in the printed directory and commit to build again.
image: alpine:3
env:
  GREETING: Hello
steps:
  - name: greet
    run: echo "$GREETING from a Kiln build"
  - name: test
    run: grep -q Kiln README.md
`;

interface SandboxOptions {
  port: number;
  kubeconfig: string;
  webhookPort: number;
  demo: boolean;
  logLevel: string;
}

function parseOptions(args: string[]): SandboxOptions | { help: true } {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      port: { type: "string", default: "6443" },
      kubeconfig: { type: "string", default: "kiln-sandbox.kubeconfig" },
      "webhook-port": { type: "string", default: "8080" },
      "no-demo": { type: "boolean", default: false },
      "log-level": { type: "string", default: "warn" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return { help: true };
  return {
    port: parsePort("port", values.port),
    kubeconfig: resolve(values.kubeconfig),
    webhookPort: parsePort("webhook-port", values["webhook-port"]),
    demo: !values["no-demo"],
    logLevel: values["log-level"],
  };
}

/** The agent's service account: on a cluster, manifests/rbac/build-agent.yaml installs it. */
async function createBuildAccount(client: KubeClient): Promise<void> {
  await client.create(resourcePath("v1", "serviceaccounts", NAMESPACE), {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "kiln-build", namespace: NAMESPACE },
    automountServiceAccountToken: false,
  });
}

/** A real git repository with a pipeline, a Repository for it and a Build of its head commit. */
async function startDemo(client: KubeClient): Promise<{ dir: string; build: string; stop(): Promise<void> }> {
  const repo = await GitRepo.create();
  const sha = await repo.commit(
    { ".kiln.yaml": DEMO_PIPELINE, "README.md": "# Kiln demo\n" },
    "Demo pipeline",
  );
  const cloneURL = await repo.serveHttp();
  await client.create(resourcePath(API_VERSION, "repositories", NAMESPACE), {
    apiVersion: API_VERSION,
    kind: "Repository",
    metadata: { name: "demo", namespace: NAMESPACE },
    spec: { github: { owner: "kiln-sandbox", name: "demo" }, cloneURL, branches: ["main"] },
  });
  const build = `demo-${sha.slice(0, 7)}`;
  await client.create(resourcePath(API_VERSION, "builds", NAMESPACE), {
    apiVersion: API_VERSION,
    kind: "Build",
    metadata: {
      name: build,
      namespace: NAMESPACE,
      labels: {
        "kiln.dev/repository": "demo",
        "kiln.dev/branch": "main",
        "kiln.dev/commit": sha.slice(0, 7),
      },
    },
    spec: {
      repository: "demo",
      revision: { sha, ref: "refs/heads/main", branch: "main", message: "Demo pipeline", author: "Kiln" },
      trigger: { event: "manual" },
    },
  });
  return { dir: repo.dir, build, stop: () => repo.remove() };
}

async function startEverything(options: SandboxOptions, log: Logger) {
  const stops: (() => Promise<void>)[] = [];
  const cluster: TestCluster = await startTestCluster({
    port: options.port,
    kubeconfigPath: options.kubeconfig,
    kubelet: true,
    logger: log.child({ component: "cluster" }),
  });
  stops.push(() => cluster.stop());
  try {
    const client = new KubeClient(cluster.kubeConfig);
    stops.push(async () => client.close());
    await createBuildAccount(client);
    // The agent's ClusterRole, as `kubectl apply -k manifests/` installs it (the controller binds it).
    installBuildAgentClusterRole(cluster.server);

    const args = ["--kubeconfig", cluster.kubeconfigPath, "--no-leader-elect", "--image", KILN_IMAGE];
    args.push("--metrics-host", "127.0.0.1", "--metrics-port", "0", "--log-level", options.logLevel);
    const flags = Object.assign({}, ...MODULES.map((m) => m.flags ?? {}));
    const controllers = await runControllers(parseControllerConfig(args, process.env, flags), {
      kubeConfig: cluster.kubeConfig,
      log: log.child({ component: "controller" }),
      args,
      env: process.env,
    });
    stops.push(() => controllers.stop());

    const webhook = await startWebhook(
      webhookConfig.parse({
        kubeconfig: cluster.kubeconfigPath,
        host: "127.0.0.1",
        port: options.webhookPort,
        logLevel: options.logLevel,
      }),
    );
    stops.push(() => webhook.close());

    const demo = options.demo ? await startDemo(client) : undefined;
    if (demo) stops.push(() => demo.stop());
    // Every step runs even when one fails: a cluster left running would keep the process alive.
    return { cluster, controllers, webhook, demo, stop: () => stopAll(...stops.reverse()) };
  } catch (error) {
    await stopAll(...stops.reverse()).catch(() => {});
    throw error;
  }
}

export async function main(args: string[]): Promise<number> {
  let options: SandboxOptions | { help: true };
  try {
    options = parseOptions(args);
  } catch (error) {
    console.error(`kiln sandbox: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if ("help" in options) {
    console.log(USAGE);
    return 0;
  }
  const log = createLogger("sandbox", { level: options.logLevel, destination: process.stderr });
  // Listen before starting: a Ctrl-C during start-up still stops everything cleanly.
  const stopped = untilSignal();
  const sandbox = await startEverything(options, log);
  const { cluster, controllers, webhook, demo } = sandbox;
  console.log(
    [
      "Kiln sandbox is running:",
      `  Kubernetes API  ${cluster.url} (test API server, Kiln's CRDs, process kubelet)`,
      `  controllers     /metrics and /healthz on http://127.0.0.1:${controllers.port}`,
      `  webhook         ${webhook.url}/hooks/github`,
      ...(demo ? [`  demo repository ${demo.dir} (commit there, then create a Build)`] : []),
      "",
      `  export KUBECONFIG=${cluster.kubeconfigPath}   # kubectl v1.34 is in .tools/bin`,
      "  kubectl get repositories,builds",
      ...(demo
        ? [`  kubectl get build ${demo.build} -w`, `  kubectl logs -l kiln.dev/build=${demo.build} -c build`]
        : []),
      "  kubectl apply -f manifests/examples/repository.yaml",
      "",
      "Stop with Ctrl-C.",
    ].join("\n"),
  );
  const signal = await stopped;
  log.info({ signal }, "stopping");
  await sandbox.stop();
  return 0;
}
