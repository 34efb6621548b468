// `kiln sandbox`: the whole of Kiln on one machine, no cluster needed, and the whole loop visible:
// git push → webhook → Build → chat → commit status. The test API server (with Kiln's CRDs) and the
// process kubelet stand in for Kubernetes, the GitHub stand-in hosts the demo repository (git over
// HTTP, REST API, webhook deliveries), the Telegram stand-in is the chat, with this console as its
// user; `kiln controller` and `kiln webhook` run in-process against them exactly as they would
// against the real things. See sandbox/README.md.
import { parseControllerConfig } from "../controllers/config.ts";
import { MODULES, runControllers } from "../controllers/main.ts";
import { KubeClient } from "../lib/kube.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { KILN_IMAGE } from "../scripts/image-inputs.ts";
import { installBuildAgentClusterRole } from "../stand-ins/cluster/build-agent-access.ts";
import { untilSignal } from "../stand-ins/cluster/main.ts";
import { startTestCluster, type TestCluster } from "../stand-ins/cluster/start.ts";
import { storeReaderTokenFile } from "../stand-ins/cluster/store-access.ts";
import { FakeGitHub } from "../stand-ins/github/index.ts";
import { stopAll } from "../stand-ins/teardown.ts";
import { FakeTelegram } from "../stand-ins/telegram/server.ts";
import { webhookConfig } from "../webhook/config.ts";
import { startWebhook } from "../webhook/main.ts";
import { type ChatConsole, startChatConsole } from "./chat-console.ts";
import { CONSOLE, PRESS_HINT, renderDelivery, renderStatus } from "./console.ts";
import { createDemo, DEMO, type Demo, pushDemoPipeline } from "./demo.ts";
import { startLocalStore } from "./local-store.ts";
import { parseOptions, type SandboxOptions, USAGE } from "./options.ts";

const NAMESPACE = "default";
/** The console's Telegram user, in a private chat with the bot (whose id is the user's, as in Telegram). */
const CONSOLE_USER = { id: 1000001, first_name: "You", username: "you" } as const;

const print = (lines: string[]) => {
  if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
};

async function startEverything(options: SandboxOptions, log: Logger) {
  const stops: (() => unknown)[] = [];
  try {
    const cluster: TestCluster = await startTestCluster({
      port: options.port,
      kubeconfigPath: options.kubeconfig,
      kubelet: true,
      logger: log.child({ component: "cluster" }),
    });
    stops.push(() => cluster.stop());
    const client = new KubeClient(cluster.kubeConfig);
    stops.push(() => client.close());
    // The agent's ClusterRole, as `kubectl apply -k manifests/` installs it; the repository controller
    // makes the agent's ServiceAccount and RoleBinding in the demo's namespace, as on a cluster.
    installBuildAgentClusterRole(cluster.server);

    const github = await FakeGitHub.start({ port: options.githubPort });
    stops.push(() => github.stop());
    // What reaches GitHub is part of the loop: every delivery's answer and every commit status.
    github.events.on("delivery", (_repo, delivery) => print([renderDelivery(delivery)]));
    github.events.on("status", (_repo, sha, status) => print([renderStatus(sha, status)]));

    const telegram = options.telegram
      ? undefined
      : await FakeTelegram.start({
          port: options.telegramPort,
          chats: [
            {
              id: CONSOLE_USER.id,
              type: "private",
              first_name: CONSOLE_USER.first_name,
              username: CONSOLE_USER.username,
            },
          ],
        });
    if (telegram) stops.push(() => telegram.stop());

    // The store, as the install runs it beside the controller: build logs outlive their pods, caches.
    const store = await startLocalStore(cluster, {
      dir: options.storeDir,
      port: options.storePort,
      log: createLogger("store", { level: options.logLevel, destination: process.stderr }),
    });
    stops.push(() => store.close());

    // The webhook, with the build pages reading logs from the store as the install's does (its own token).
    const webhook = await startWebhook(
      webhookConfig.parse({
        kubeconfig: cluster.kubeconfigPath,
        host: "127.0.0.1",
        port: options.webhookPort,
        storeURL: store.url,
        storeTokenFile: await storeReaderTokenFile(cluster, options.storeDir, "kiln-webhook"),
        logLevel: options.logLevel,
      }),
      // Its logs go where the sandbox's go: stdout is the console's.
      { log: createLogger("webhook", { level: options.logLevel, destination: process.stderr }) },
    );
    stops.push(() => webhook.close());
    const storeToken = await storeReaderTokenFile(cluster, options.storeDir, "kiln-controller");

    const args = ["--kubeconfig", cluster.kubeconfigPath, "--no-leader-elect", "--image", KILN_IMAGE];
    args.push("--store-url", store.url, "--store-token-file", storeToken);
    args.push("--metrics-host", "127.0.0.1", "--metrics-port", "0", "--log-level", options.logLevel);
    args.push("--github-api-url", github.url, "--webhook-url", `${webhook.url}/hooks/github`);
    // Chat messages and commit statuses link to the build pages, which the webhook serves here.
    if (!process.env.KILN_PUBLIC_URL) args.push("--public-url", webhook.url);
    // The token goes through the environment, never into argv.
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.KILN_TELEGRAM_TOKEN_FILE;
    if (telegram) {
      env.KILN_TELEGRAM_TOKEN = telegram.token;
      env.KILN_TELEGRAM_API_ROOT = telegram.apiRoot;
    } else env.KILN_TELEGRAM_TOKEN = options.telegram!.token;
    const flags = Object.assign({}, ...MODULES.map((m) => m.flags ?? {}));
    const controllers = await runControllers(parseControllerConfig(args, env, flags), {
      kubeConfig: cluster.kubeConfig,
      log: log.child({ component: "controller" }),
      args,
      env,
    });
    stops.push(() => controllers.stop());

    const demo: Demo | undefined = options.demo
      ? await createDemo({
          client,
          github,
          namespace: NAMESPACE,
          telegram: options.telegram
            ? { chats: [options.telegram.chat], admins: options.telegram.admins }
            : { chats: [String(CONSOLE_USER.id)], admins: [`@${CONSOLE_USER.username}`] },
        })
      : undefined;
    const sandbox = {
      cluster,
      store,
      controllers,
      webhook,
      github,
      telegram,
      demo,
      chat: undefined as ChatConsole | undefined,
      // Every step runs even when one fails: a cluster left running would keep the process alive.
      stop: () => stopAll(() => sandbox.chat?.stop(), ...stops.reverse()),
    };
    return sandbox;
  } catch (error) {
    await stopAll(...stops.reverse()).catch(() => {});
    throw error;
  }
}

type Sandbox = Awaited<ReturnType<typeof startEverything>>;

function banner(sandbox: Sandbox, options: SandboxOptions): string[] {
  const { cluster, store, controllers, webhook, github, telegram, demo } = sandbox;
  const commitPage = `${github.url}/${DEMO.owner}/${DEMO.name}/commit/<sha>`;
  return [
    "Kiln sandbox is running:",
    `  Kubernetes API  ${cluster.url} (test API server, Kiln's CRDs, process kubelet)`,
    `  controllers     /metrics and /healthz on http://127.0.0.1:${controllers.port}`,
    `  webhook         ${webhook.url}/hooks/github`,
    `  build pages     ${webhook.url}/repositories/${NAMESPACE}/${DEMO.name} (each build: ${webhook.url}/builds/${NAMESPACE}/<build>)`,
    `  store           ${store.url} (kiln store: build logs and caches, in ${options.storeDir})`,
    `  GitHub          ${github.url} (stand-in: git over HTTP, REST API, webhook deliveries, commit pages)`,
    telegram
      ? `  Telegram        ${telegram.apiRoot} (stand-in: its chat is this console)`
      : `  Telegram        api.telegram.org, chat ${options.telegram!.chat} (real: write in Telegram; no console chat)`,
    "",
    ...(demo
      ? [
          "Try the loop (the first push is the sandbox's own; pushing needs no credentials):",
          `  git clone ${demo.cloneURL} && cd demo`,
          '  $EDITOR .kiln.yaml && git commit -am "Try Kiln" && git push',
          "  → a push event to the webhook → a Build → its pod → the chat below and a commit status",
          "",
          "Watch:",
          `  export KUBECONFIG=${cluster.kubeconfigPath} PATH=$PWD/.tools/bin:$PATH   # kubectl v1.34`,
          "  kubectl get builds -w",
          "  kubectl logs -l kiln.dev/repository=demo -c build",
          `  npx kiln logs demo --store ${store.url}   (from the store: also once the pod is gone)`,
          `  ${commitPage}   (the commit's statuses)`,
          `  ${github.url}/${DEMO.owner}/${DEMO.name}   (branches)`,
          "",
        ]
      : [
          `  export KUBECONFIG=${cluster.kubeconfigPath} PATH=$PWD/.tools/bin:$PATH   # kubectl v1.34`,
          "  kubectl apply -f manifests/examples/repository.yaml",
          "",
        ]),
    ...(telegram
      ? [
          `Chat: you are @${CONSOLE_USER.username} (user ${CONSOLE_USER.id}, an admin of demo); each line you type is a message to the bot:`,
          "  /builds   /log <build>   /rerun <build>   /hold <build> [1h]   /release <build>   /cancel <build>   /approve <build>",
          `  buttons: ${PRESS_HINT}`,
          "",
        ]
      : []),
    "Stop with Ctrl-C.",
  ];
}

export async function main(args: string[]): Promise<number> {
  let options: SandboxOptions | { help: true };
  try {
    options = parseOptions(args, process.env);
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
  try {
    print(banner(sandbox, options));
    if (sandbox.telegram)
      sandbox.chat = startChatConsole({
        telegram: sandbox.telegram,
        chat: CONSOLE_USER.id,
        user: CONSOLE_USER,
        input: process.stdin,
        print,
        // Styles only for a person at a terminal: a pipe, NO_COLOR or TERM=dumb get the words alone.
        ansi: process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb",
      });
    if (sandbox.demo) {
      const sha = await pushDemoPipeline(sandbox.demo.cloneURL);
      print([`${CONSOLE}pushed the demo pipeline to main (${sha.slice(0, 7)}): its build is on the way`]);
    }
  } catch (error) {
    await sandbox.stop().catch(() => {});
    throw error;
  }
  const signal = await stopped;
  log.info({ signal }, "stopping");
  await sandbox.stop();
  return 0;
}
