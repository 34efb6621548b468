// `kiln sandbox`'s command line, parsed once into options (pure: argv and environment in).
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { parsePort } from "../stand-ins/cluster/main.ts";

export const USAGE = `Usage: kiln sandbox [options]

Starts Kiln on this machine: a Kubernetes API server with Kiln's CRDs, a process kubelet that runs
pods as local processes, the controllers and the webhook server, a GitHub stand-in hosting a demo
repository to git push to, and a Telegram stand-in whose chat is this console. Stop it with Ctrl-C.

Options:
  --port <port>              API server port on 127.0.0.1 (6443; 0 for any)
  --kubeconfig <file>        where to write the kubeconfig (kiln-sandbox.kubeconfig)
  --webhook-port <port>      webhook server port on 127.0.0.1 (8080; 0 for any)
  --github-port <port>       GitHub stand-in port on 127.0.0.1: git, REST API, pages (8081; 0 for any)
  --telegram-port <port>     Telegram stand-in port on 127.0.0.1 (0: any)
  --store-port <port>        kiln store port on 127.0.0.1: build logs and caches (8082; 0 for any)
  --store-dir <dir>          where the store keeps them (kiln-sandbox-store; kept between runs)
  --telegram-token <token>   use real Telegram with this bot token instead of the stand-in
                             (or KILN_TELEGRAM_TOKEN); needs --telegram-chat; no console chat then
  --telegram-chat <id>       the Telegram chat the demo announces to (with --telegram-token); a
                             group's id is negative: --telegram-chat=-1001234567890
  --telegram-admin <user>    who may control builds from that chat: @username or numeric id
                             (repeat or comma-separate; with --telegram-token)
  --no-demo                  no demo repository, no first build
  --log-level <level>        log level of the components, JSON on stderr (warn)

Other controller settings come from the environment as for kiln controller (KILN_PUBLIC_URL, …);
the sandbox sets the GitHub API URL, the webhook URL and the Telegram settings itself.`;

export interface SandboxOptions {
  port: number;
  kubeconfig: string;
  webhookPort: number;
  githubPort: number;
  telegramPort: number;
  storePort: number;
  storeDir: string;
  /** Real Telegram: the bot's token, the chat, its admins. */
  telegram?: { token: string; chat: string; admins: string[] };
  demo: boolean;
  logLevel: string;
}

export function parseOptions(args: string[], env: NodeJS.ProcessEnv): SandboxOptions | { help: true } {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      port: { type: "string", default: "6443" },
      kubeconfig: { type: "string", default: "kiln-sandbox.kubeconfig" },
      "webhook-port": { type: "string", default: "8080" },
      "github-port": { type: "string", default: "8081" },
      "telegram-port": { type: "string", default: "0" },
      "store-port": { type: "string", default: "8082" },
      "store-dir": { type: "string", default: "kiln-sandbox-store" },
      "telegram-token": { type: "string" },
      "telegram-chat": { type: "string" },
      "telegram-admin": { type: "string", multiple: true, default: [] },
      "no-demo": { type: "boolean", default: false },
      "log-level": { type: "string", default: "warn" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return { help: true };
  const token = values["telegram-token"] ?? (env.KILN_TELEGRAM_TOKEN || undefined);
  const chat = values["telegram-chat"];
  if (token !== undefined && chat === undefined)
    throw new Error("--telegram-token needs --telegram-chat: the chat the demo announces to");
  if (chat !== undefined && token === undefined)
    throw new Error("--telegram-chat needs --telegram-token (without both, the chat is the console)");
  if (chat !== undefined && !/^-?\d+$|^@\w+$/.test(chat))
    throw new Error(`--telegram-chat must be a chat id (such as -1001234567890) or @channel, got "${chat}"`);
  const admins = values["telegram-admin"]
    .flatMap((a) => a.split(","))
    .map((a) => a.trim())
    .filter(Boolean);
  for (const admin of admins)
    if (!/^-?\d+$|^@\w+$/.test(admin))
      throw new Error(`--telegram-admin must be a numeric user id or an @username, got "${admin}"`);
  if (admins.length > 0 && token === undefined)
    throw new Error(
      "--telegram-admin is for real Telegram (--telegram-token); in the console chat you are the admin",
    );
  return {
    port: parsePort("port", values.port),
    kubeconfig: resolve(values.kubeconfig),
    webhookPort: parsePort("webhook-port", values["webhook-port"]),
    githubPort: parsePort("github-port", values["github-port"]),
    telegramPort: parsePort("telegram-port", values["telegram-port"]),
    storePort: parsePort("store-port", values["store-port"]),
    storeDir: resolve(values["store-dir"]),
    ...(token !== undefined && chat !== undefined && { telegram: { token, chat, admins } }),
    demo: !values["no-demo"],
    logLevel: values["log-level"],
  };
}
