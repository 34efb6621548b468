// `kiln controller` configuration: flags and environment parsed once into a typed, validated object.
// Flags win over environment variables; nothing else reads process.env.
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { durationMs as durationMsSchema, parseDuration } from "../api/duration.ts";
import type { FlagSpec } from "../lib/runtime/module.ts";
import { BUILD_FLAGS, BUILD_USAGE, buildConfigInput, buildConfigShape } from "./build/config.ts";
import { ConfigError } from "./errors.ts";

export type { Resources } from "./build/config.ts";
export { ConfigError } from "./errors.ts";

const durationMs = durationMsSchema({ numbersAreMs: true });

export const controllerConfig = z.object({
  kubeconfig: z.string().optional().describe("kubeconfig file; in a pod the service account is used"),
  namespaces: z.array(z.string().min(1)).default([]).describe("namespaces to watch; empty means all"),
  /** Which controllers of the process to run (by module name); empty means all. */
  controllers: z.array(z.string().min(1)).default([]),
  githubApiURL: z.url().default("https://api.github.com"),
  metricsHost: z.string().default("0.0.0.0"),
  metricsPort: z.coerce.number().int().min(0).max(65535).default(9090),
  logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  workers: z.coerce.number().int().min(1).max(64).default(16),
  /** The service account whose (projected) token only the agent container gets; it may read/patch Builds. */
  agentServiceAccount: z.string().min(1).default("kiln-build"),
  /**
   * Where `kiln store` listens (build logs, caches): build pods' agents ship to it, the chat's /log reads
   * from it. Unset: no store (logs live in the pod only; cache: is not applied).
   */
  storeURL: z.url().optional(),
  /** The controller's own token for reading logs from the store (a projected token, audience kiln-store). */
  storeTokenFile: z.string().min(1).optional(),
  ...buildConfigShape,
  leaderElection: z
    .object({
      enabled: z.boolean().default(true),
      namespace: z.string().min(1).default("kiln"),
      name: z.string().min(1).default("kiln-controller"),
      identity: z.string().min(1).default(`${hostname()}-${process.pid}`),
      leaseDurationMs: durationMs.default(15_000),
      renewDeadlineMs: durationMs.default(10_000),
      retryPeriodMs: durationMs.default(2_000),
    })
    .default({
      enabled: true,
      namespace: "kiln",
      name: "kiln-controller",
      identity: `${hostname()}-${process.pid}`,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    }),
});
export type ControllerConfig = z.infer<typeof controllerConfig>;
export type ControllerConfigInput = z.input<typeof controllerConfig>;

export const USAGE = `Usage: kiln controller [options]

Runs Kiln's controllers (builds, repositories, reporting) behind one leader election.

Options (environment variable in brackets):
  --kubeconfig <file>            kubeconfig [KUBECONFIG]; default: in-cluster service account
  --namespace <ns>               watch this namespace; repeat or comma-separate [KILN_NAMESPACES]; default all
  --controllers <a,b>            run only these controllers (build, reporting, repository) [KILN_CONTROLLERS]; default all
  --github-api-url <url>         GitHub API root [KILN_GITHUB_API_URL] (https://api.github.com)
  --agent-service-account <sa>   service account of the agent sidecar [KILN_AGENT_SERVICE_ACCOUNT] (kiln-build)
  --store-url <url>              kiln store: build pods ship logs there, /log reads them [KILN_STORE_URL]
  --store-token-file <file>      the controller's token for the store (audience kiln-store) [KILN_STORE_TOKEN_FILE]
  --metrics-port <port>          /metrics and /healthz port, 0 for any [KILN_METRICS_PORT] (9090)
  --metrics-host <host>          address to listen on [KILN_METRICS_HOST] (0.0.0.0)
  --workers <n>                  reconciles in parallel per controller [KILN_WORKERS] (16)
  --log-level <level>            [KILN_LOG_LEVEL] (info)
  --no-leader-elect              act without a Lease (only ever run one replica then) [KILN_LEADER_ELECT=false]
  --lease-namespace <ns>         namespace of the Lease [KILN_LEASE_NAMESPACE, KILN_NAMESPACE] (kiln)
  --lease-name <name>            [KILN_LEASE_NAME] (kiln-controller)
  --identity <id>                this replica's name in the Lease [KILN_IDENTITY, KILN_POD_NAME] (host-pid)
  --lease-duration <d>           [KILN_LEASE_DURATION] (15s); renew deadline and retry period scale with it

${BUILD_USAGE}`;

/**
 * Parses argv and env into a config, or throws ConfigError with every problem listed. otherFlags are
 * those other controllers in the same process read (they are accepted here, and parsed by them).
 */
export function parseControllerConfig(
  argv: string[],
  env: NodeJS.ProcessEnv,
  otherFlags: FlagSpec = {},
): ControllerConfig {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        ...otherFlags,
        ...BUILD_FLAGS,
        kubeconfig: { type: "string" },
        namespace: { type: "string", multiple: true },
        controllers: { type: "string" },
        "github-api-url": { type: "string" },
        "agent-service-account": { type: "string" },
        "store-url": { type: "string" },
        "store-token-file": { type: "string" },
        "metrics-port": { type: "string" },
        "metrics-host": { type: "string" },
        workers: { type: "string" },
        "log-level": { type: "string" },
        "no-leader-elect": { type: "boolean" },
        "lease-namespace": { type: "string" },
        "lease-name": { type: "string" },
        identity: { type: "string" },
        "lease-duration": { type: "string" },
      },
    }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const str = (flag: string, name: string) => (values[flag] as string | undefined) ?? env[name] ?? undefined;
  const namespaces = (
    (values.namespace as string[] | undefined) ?? (env.KILN_NAMESPACES ? [env.KILN_NAMESPACES] : [])
  )
    .flatMap((n) => n.split(","))
    .map((n) => n.trim())
    .filter(Boolean);
  const leaseText = str("lease-duration", "KILN_LEASE_DURATION");
  const leaseMs = leaseText === undefined ? 15_000 : parseDuration(leaseText);
  if (leaseMs === undefined) throw new ConfigError(`--lease-duration: "${leaseText}" is not a duration`);
  const leaderElect = values["no-leader-elect"] === true ? false : env.KILN_LEADER_ELECT !== "false";
  const controllers = (str("controllers", "KILN_CONTROLLERS") ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  const input: Record<string, unknown> = {
    ...buildConfigInput(str),
    kubeconfig: str("kubeconfig", "KUBECONFIG"),
    namespaces,
    controllers,
    githubApiURL: str("github-api-url", "KILN_GITHUB_API_URL"),
    agentServiceAccount: str("agent-service-account", "KILN_AGENT_SERVICE_ACCOUNT"),
    storeURL: str("store-url", "KILN_STORE_URL"),
    storeTokenFile: str("store-token-file", "KILN_STORE_TOKEN_FILE"),
    metricsPort: str("metrics-port", "KILN_METRICS_PORT"),
    metricsHost: str("metrics-host", "KILN_METRICS_HOST"),
    workers: str("workers", "KILN_WORKERS"),
    logLevel: str("log-level", "KILN_LOG_LEVEL"),
    leaderElection: {
      enabled: leaderElect,
      namespace: str("lease-namespace", "KILN_LEASE_NAMESPACE") ?? env.KILN_NAMESPACE,
      name: str("lease-name", "KILN_LEASE_NAME"),
      identity:
        (values.identity as string | undefined) ?? env.KILN_IDENTITY ?? env.KILN_POD_NAME ?? env.POD_NAME,
      // client-go's proportions: renew deadline 2/3 of the lease, retry period 2/15.
      leaseDurationMs: leaseMs,
      renewDeadlineMs: Math.round((leaseMs * 2) / 3),
      retryPeriodMs: Math.max(100, Math.round((leaseMs * 2) / 15)),
    },
  };
  const parsed = controllerConfig.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`).join("\n"),
    );
  }
  return parsed.data;
}
