// `kiln controller` configuration: flags and environment parsed once into a typed, validated object.
// Flags win over environment variables; nothing else reads process.env.
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { toleration } from "../api/common.ts";
import { durationMs as durationMsSchema, parseDuration } from "../api/duration.ts";
import type { FlagSpec } from "../lib/runtime/module.ts";

const durationMs = durationMsSchema({ numbersAreMs: true });

const quantities = z.object({ cpu: z.string().optional(), memory: z.string().optional() });
const resources = z.object({ requests: quantities.optional(), limits: quantities.optional() });
export type Resources = z.infer<typeof resources>;

/** "cpu=500m,memory=512Mi" (kubectl's --requests form) into {cpu, memory}; undefined for an unset value. */
export function parseQuantities(name: string, text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(cpu|memory)=([0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(part);
    if (!m) throw new ConfigError(`--${name}: "${part}" is not cpu=<quantity> or memory=<quantity>`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** "key=value,key2=value2" into a map (a nodeSelector). */
export function parseLabels(name: string, text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new ConfigError(`--${name}: "${part}" is not key=value`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** Where build pods may run and what they pull with: the cluster's defaults (a Repository adds its own). */
const buildScheduling = z.object({
  nodeSelector: z.record(z.string(), z.string()).default({}),
  tolerations: z.array(toleration).default([]),
  imagePullSecrets: z.array(z.string().min(1)).default([]),
});
export type BuildScheduling = z.infer<typeof buildScheduling>;

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
  /**
   * Kiln's own image: the fetch init container and the agent sidecar. Unset in a pod: the image the
   * controller itself runs (controllers/main.ts), so an install's image override reaches build pods too.
   */
  image: z.string().min(1).optional(),
  imagePullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).default("IfNotPresent"),
  /** The service account whose (projected) token only the agent container gets; it may read/patch Builds. */
  agentServiceAccount: z.string().min(1).default("kiln-build"),
  /** Uid/gid Kiln's containers run as (the image's non-root user); also the pod's fsGroup. */
  kilnUser: z.coerce.number().int().min(1).default(10001),
  buildResources: resources.default({
    requests: { cpu: "500m", memory: "512Mi" },
    limits: { memory: "4Gi" },
  }),
  serviceResources: resources.default({
    requests: { cpu: "100m", memory: "256Mi" },
    limits: { memory: "2Gi" },
  }),
  kilnResources: resources.default({ requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } }),
  buildScheduling: buildScheduling.default({ nodeSelector: {}, tolerations: [], imagePullSecrets: [] }),
  /** A pod that cannot be scheduled for this long makes its Build Errored. */
  unschedulableTimeoutMs: durationMs.default(300_000),
  /** How often a build whose pod was evicted or lost before any step ran gets a new pod. */
  maxRevivals: z.coerce.number().int().min(0).max(10).default(2),
  /** A pod whose containers have not started after this long (image pulls …) makes its Build Errored. */
  startTimeoutMs: durationMs.default(600_000),
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
  --image <ref>                  Kiln image for fetch/agent containers [KILN_IMAGE]; in a pod, its own by default
  --image-pull-policy <p>        of that image: Always, IfNotPresent, Never [KILN_IMAGE_PULL_POLICY] (IfNotPresent)
  --build-requests <r>           build container defaults, cpu=500m,memory=512Mi [KILN_BUILD_REQUESTS]
  --build-limits <r>             [KILN_BUILD_LIMITS] (memory=4Gi); a pipeline's own resources: win
  --service-requests <r>         service container defaults [KILN_SERVICE_REQUESTS] (cpu=100m,memory=256Mi)
  --service-limits <r>           [KILN_SERVICE_LIMITS] (memory=2Gi)
  --build-node-selector <k=v,…>  nodes build pods may run on [KILN_BUILD_NODE_SELECTOR]
  --build-tolerations <json>     tolerations of build pods, a JSON list [KILN_BUILD_TOLERATIONS]
  --build-image-pull-secrets <a,b>  pull secrets of build pods (in each build namespace) [KILN_BUILD_IMAGE_PULL_SECRETS]
  --agent-service-account <sa>   service account of the agent sidecar [KILN_AGENT_SERVICE_ACCOUNT] (kiln-build)
  --metrics-port <port>          /metrics and /healthz port, 0 for any [KILN_METRICS_PORT] (9090)
  --metrics-host <host>          address to listen on [KILN_METRICS_HOST] (0.0.0.0)
  --workers <n>                  reconciles in parallel per controller [KILN_WORKERS] (16)
  --log-level <level>            [KILN_LOG_LEVEL] (info)
  --no-leader-elect              act without a Lease (only ever run one replica then) [KILN_LEADER_ELECT=false]
  --lease-namespace <ns>         namespace of the Lease [KILN_LEASE_NAMESPACE, KILN_NAMESPACE] (kiln)
  --lease-name <name>            [KILN_LEASE_NAME] (kiln-controller)
  --identity <id>                this replica's name in the Lease [KILN_IDENTITY, KILN_POD_NAME] (host-pid)
  --lease-duration <d>           [KILN_LEASE_DURATION] (15s); renew deadline and retry period scale with it
  --unschedulable-timeout <d>    [KILN_UNSCHEDULABLE_TIMEOUT] (5m)
  --start-timeout <d>            [KILN_START_TIMEOUT] (10m)
  --max-revivals <n>             new pods for a build evicted or lost before any step [KILN_MAX_REVIVALS] (2)
`;

export class ConfigError extends Error {}

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
        kubeconfig: { type: "string" },
        namespace: { type: "string", multiple: true },
        controllers: { type: "string" },
        "github-api-url": { type: "string" },
        image: { type: "string" },
        "image-pull-policy": { type: "string" },
        "build-requests": { type: "string" },
        "build-limits": { type: "string" },
        "service-requests": { type: "string" },
        "service-limits": { type: "string" },
        "build-node-selector": { type: "string" },
        "build-tolerations": { type: "string" },
        "build-image-pull-secrets": { type: "string" },
        "agent-service-account": { type: "string" },
        "metrics-port": { type: "string" },
        "metrics-host": { type: "string" },
        workers: { type: "string" },
        "log-level": { type: "string" },
        "no-leader-elect": { type: "boolean" },
        "lease-namespace": { type: "string" },
        "lease-name": { type: "string" },
        identity: { type: "string" },
        "lease-duration": { type: "string" },
        "unschedulable-timeout": { type: "string" },
        "start-timeout": { type: "string" },
        "max-revivals": { type: "string" },
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
  const defaults = controllerConfig.shape;
  const withResources = (kind: "build" | "service", fallback: Resources): Resources => {
    const requests = parseQuantities(
      `${kind}-requests`,
      str(`${kind}-requests`, `KILN_${kind.toUpperCase()}_REQUESTS`),
    );
    const limits = parseQuantities(
      `${kind}-limits`,
      str(`${kind}-limits`, `KILN_${kind.toUpperCase()}_LIMITS`),
    );
    return { ...fallback, ...(requests && { requests }), ...(limits && { limits }) };
  };
  const tolerationsText = str("build-tolerations", "KILN_BUILD_TOLERATIONS");
  let tolerations: unknown;
  try {
    tolerations = tolerationsText === undefined ? undefined : JSON.parse(tolerationsText);
  } catch (err) {
    throw new ConfigError(`--build-tolerations: not JSON: ${(err as Error).message}`);
  }
  const pullSecrets = str("build-image-pull-secrets", "KILN_BUILD_IMAGE_PULL_SECRETS");
  const input: Record<string, unknown> = {
    kubeconfig: str("kubeconfig", "KUBECONFIG"),
    imagePullPolicy: str("image-pull-policy", "KILN_IMAGE_PULL_POLICY"),
    buildResources: withResources("build", defaults.buildResources.parse(undefined)),
    serviceResources: withResources("service", defaults.serviceResources.parse(undefined)),
    buildScheduling: {
      nodeSelector: parseLabels(
        "build-node-selector",
        str("build-node-selector", "KILN_BUILD_NODE_SELECTOR"),
      ),
      tolerations,
      imagePullSecrets: pullSecrets
        ?.split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    },
    namespaces,
    controllers,
    githubApiURL: str("github-api-url", "KILN_GITHUB_API_URL"),
    image: str("image", "KILN_IMAGE"),
    agentServiceAccount: str("agent-service-account", "KILN_AGENT_SERVICE_ACCOUNT"),
    metricsPort: str("metrics-port", "KILN_METRICS_PORT"),
    metricsHost: str("metrics-host", "KILN_METRICS_HOST"),
    workers: str("workers", "KILN_WORKERS"),
    logLevel: str("log-level", "KILN_LOG_LEVEL"),
    unschedulableTimeoutMs: str("unschedulable-timeout", "KILN_UNSCHEDULABLE_TIMEOUT"),
    startTimeoutMs: str("start-timeout", "KILN_START_TIMEOUT"),
    maxRevivals: str("max-revivals", "KILN_MAX_REVIVALS"),
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
