// `kiln store` configuration: flags over environment, parsed and validated once.
import { parseArgs } from "node:util";
import { z } from "zod";
import { durationMs } from "../api/duration.ts";
import { STORE_AUDIENCE } from "../api/store-protocol.ts";
import { flagSpec } from "../lib/runtime/module.ts";

const UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** A size as Kubernetes quantities write it ("512Mi", "10Gi", "1G", "1048576"), in bytes; undefined if it is none. */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * UNITS[m[2] ?? ""]!);
}

const bytes = (min: number) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const n = typeof value === "number" ? value : parseBytes(value);
    if (n === undefined || !Number.isSafeInteger(n) || n < min) {
      ctx.addIssue({
        code: "custom",
        message: `"${value}" is not a size of at least ${min} bytes: write it like 512Mi or 10Gi`,
      });
      return z.NEVER;
    }
    return n;
  });

const list = z
  .string()
  .optional()
  .transform((text) =>
    (text ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const storeConfig = z
  .object({
    kubeconfig: z.string().min(1).optional(),
    host: z.string().min(1).default("0.0.0.0"),
    port: z.coerce.number().int().min(0).max(65535).default(8081),
    metricsHost: z.string().min(1).default("0.0.0.0"),
    metricsPort: z.coerce.number().int().min(0).max(65535).default(9091),
    backend: z.enum(["files", "s3"]).default("files"),
    dir: z.string().min(1).default("/var/lib/kiln-store"),
    s3Bucket: z.string().min(3).max(63).optional(),
    s3Prefix: z
      .string()
      .regex(/^([^/]+\/)*$/, 'a prefix is empty or ends in "/", such as kiln/')
      .default(""),
    s3Endpoint: z.url().optional(),
    s3Region: z.string().min(1).default("us-east-1"),
    s3ForcePathStyle: z.boolean().default(false),
    s3PartBytes: bytes(5 * 2 ** 20).default(8 * 2 ** 20),
    logRetentionMs: durationMs({ positive: true }).default(720 * 3_600_000),
    cacheMaxBytes: bytes(2 ** 20).default(10 * 2 ** 30),
    maxArchiveBytes: bytes(1024).optional(),
    maxChunkBytes: bytes(1024).default(2 ** 20),
    maxLogBytes: bytes(1024).default(2 ** 30),
    sweepIntervalMs: durationMs({ positive: true }).default(600_000),
    audience: z.string().min(1).default(STORE_AUDIENCE),
    readAudiences: list,
    agentServiceAccount: z.string().min(1).default("kiln-build"),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .superRefine((c, ctx) => {
    if (c.backend === "s3" && !c.s3Bucket) {
      ctx.addIssue({ code: "custom", path: ["s3Bucket"], message: "the s3 backend needs a bucket" });
    }
    if (c.maxArchiveBytes !== undefined && c.maxArchiveBytes > c.cacheMaxBytes) {
      ctx.addIssue({
        code: "custom",
        path: ["maxArchiveBytes"],
        message: "one archive cannot be larger than all caches",
      });
    }
  })
  // One archive at most 4 GiB by default, and never more than the caches may hold.
  .transform((c) => ({ ...c, maxArchiveBytes: c.maxArchiveBytes ?? Math.min(4 * 2 ** 30, c.cacheMaxBytes) }));
export type StoreConfig = z.infer<typeof storeConfig>;
export type StoreConfigInput = z.input<typeof storeConfig>;

/** Each setting: its flag, its environment variable, the config field it fills. */
const SETTINGS: Array<[string, string, keyof StoreConfigInput]> = [
  ["kubeconfig", "KUBECONFIG", "kubeconfig"],
  ["host", "KILN_STORE_HOST", "host"],
  ["port", "KILN_STORE_PORT", "port"],
  ["metrics-host", "KILN_STORE_METRICS_HOST", "metricsHost"],
  ["metrics-port", "KILN_STORE_METRICS_PORT", "metricsPort"],
  ["backend", "KILN_STORE_BACKEND", "backend"],
  ["dir", "KILN_STORE_DIR", "dir"],
  ["s3-bucket", "KILN_STORE_S3_BUCKET", "s3Bucket"],
  ["s3-prefix", "KILN_STORE_S3_PREFIX", "s3Prefix"],
  ["s3-endpoint", "KILN_STORE_S3_ENDPOINT", "s3Endpoint"],
  ["s3-region", "KILN_STORE_S3_REGION", "s3Region"],
  ["s3-part-size", "KILN_STORE_S3_PART_SIZE", "s3PartBytes"],
  ["log-retention", "KILN_STORE_LOG_RETENTION", "logRetentionMs"],
  ["cache-max-bytes", "KILN_STORE_CACHE_MAX_BYTES", "cacheMaxBytes"],
  ["max-archive-bytes", "KILN_STORE_MAX_ARCHIVE_BYTES", "maxArchiveBytes"],
  ["max-chunk-bytes", "KILN_STORE_MAX_CHUNK_BYTES", "maxChunkBytes"],
  ["max-log-bytes", "KILN_STORE_MAX_LOG_BYTES", "maxLogBytes"],
  ["sweep-interval", "KILN_STORE_SWEEP_INTERVAL", "sweepIntervalMs"],
  ["audience", "KILN_STORE_AUDIENCE", "audience"],
  ["read-audiences", "KILN_STORE_READ_AUDIENCES", "readAudiences"],
  ["agent-service-account", "KILN_AGENT_SERVICE_ACCOUNT", "agentServiceAccount"],
  ["log-level", "KILN_LOG_LEVEL", "logLevel"],
];

export const STORE_FLAGS = flagSpec(
  SETTINGS.map(([flag]) => flag),
  ["s3-force-path-style"],
);

export const USAGE = `Usage: kiln store [options]

Keeps build logs and caches for build pods, the CLI and the chat (store/README.md).

Options (environment variable in brackets):
  --kubeconfig <file>          kubeconfig, for token and access reviews [KUBECONFIG]; in a pod its ServiceAccount
  --host <addr>, --port <n>    where the API listens [KILN_STORE_HOST, KILN_STORE_PORT] (0.0.0.0, 8081)
  --metrics-host, --metrics-port  /metrics [KILN_STORE_METRICS_HOST, KILN_STORE_METRICS_PORT] (0.0.0.0, 9091)
  --backend files|s3           [KILN_STORE_BACKEND] (files)
  --dir <path>                 the files backend's directory [KILN_STORE_DIR] (/var/lib/kiln-store)
  --s3-bucket <name>           the s3 backend's bucket [KILN_STORE_S3_BUCKET]
  --s3-prefix <prefix/>        keys under this prefix [KILN_STORE_S3_PREFIX] (none)
  --s3-endpoint <url>          an S3-compatible server (MinIO, Ceph …) [KILN_STORE_S3_ENDPOINT]; default AWS
  --s3-region <region>         [KILN_STORE_S3_REGION] (us-east-1)
  --s3-force-path-style        bucket in the URL path, as MinIO wants [KILN_STORE_S3_FORCE_PATH_STYLE=true]
  --s3-part-size <size>        multipart upload part [KILN_STORE_S3_PART_SIZE] (8Mi); credentials: the AWS SDK's
                               chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, web identity, instance role)
  --log-retention <d>          logs are kept this long after last written [KILN_STORE_LOG_RETENTION] (720h)
  --cache-max-bytes <size>     caches beyond this go, least recently used first [KILN_STORE_CACHE_MAX_BYTES] (10Gi)
  --max-archive-bytes <size>   the largest cache [KILN_STORE_MAX_ARCHIVE_BYTES] (4Gi, at most the above)
  --max-chunk-bytes <size>     the largest log append [KILN_STORE_MAX_CHUNK_BYTES] (1Mi)
  --max-log-bytes <size>       the largest log of one step [KILN_STORE_MAX_LOG_BYTES] (1Gi)
  --sweep-interval <d>         how often retention runs [KILN_STORE_SWEEP_INTERVAL] (10m)
  --audience <aud>             of build pods' tokens [KILN_STORE_AUDIENCE] (kiln-store)
  --read-audiences <a,b>       further audiences accepted for reading logs, say the API server's, so
                               kubeconfig tokens can read [KILN_STORE_READ_AUDIENCES] (none)
  --agent-service-account <sa> the build agent's account [KILN_AGENT_SERVICE_ACCOUNT] (kiln-build)
  --log-level <level>          [KILN_LOG_LEVEL] (info)
`;

export function parseStoreConfig(args: string[], env: Record<string, string | undefined>): StoreConfig {
  const { values } = parseArgs({ args, strict: true, options: STORE_FLAGS });
  const input: Record<string, unknown> = {};
  for (const [flag, name, field] of SETTINGS)
    input[field] = (values[flag] as string | undefined) ?? env[name];
  input.s3ForcePathStyle =
    values["s3-force-path-style"] === true || env.KILN_STORE_S3_FORCE_PATH_STYLE === "true";
  const result = storeConfig.safeParse(input);
  if (!result.success) {
    const flagOf = new Map(SETTINGS.map(([flag, , field]) => [field as string, flag]));
    const problems = result.error.issues.map((issue) => {
      const field = String(issue.path[0] ?? "");
      return `${flagOf.has(field) ? `--${flagOf.get(field)}` : field || "config"}: ${issue.message}`;
    });
    throw new Error(`invalid store configuration: ${problems.join("; ")}`);
  }
  return result.data;
}
