// `kiln webhook` configuration: flags over environment, parsed and validated once.
import { parseArgs } from "node:util";
import { z } from "zod";

export const DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024; // GitHub caps payloads at 25 MB

export const webhookConfig = z.object({
  kubeconfig: z.string().min(1).optional(),
  host: z.string().min(1).default("0.0.0.0"),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  maxBodyBytes: z.coerce.number().int().min(1024).default(DEFAULT_MAX_BODY_BYTES),
  publicURL: z.url().optional(),
  namespaces: z
    .string()
    .optional()
    .transform((text) =>
      (text ?? "")
        .split(",")
        .map((ns) => ns.trim())
        .filter(Boolean),
    ),
  secretCacheSeconds: z.coerce.number().min(0).default(30),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});
export type WebhookConfig = z.infer<typeof webhookConfig>;

export const USAGE = `Usage: kiln webhook [options]

Receives GitHub deliveries on POST /hooks/github and creates Builds.

Options (environment variable in brackets):
  --kubeconfig <file>     kubeconfig to use [KUBECONFIG]; in-cluster config when unset
  --host <addr>           address to listen on [KILN_WEBHOOK_HOST] (default 0.0.0.0)
  --port <port>           port to listen on [KILN_WEBHOOK_PORT] (default 8080)
  --max-body-bytes <n>    largest accepted delivery [KILN_WEBHOOK_MAX_BODY_BYTES] (default 25 MB)
  --public-url <url>      URL GitHub reaches this server at [KILN_PUBLIC_URL]
  --namespaces <a,b>      namespaces whose Repositories to serve [KILN_NAMESPACES] (default: all)
  --secret-cache-seconds  how long webhook secrets are cached [KILN_WEBHOOK_SECRET_CACHE_SECONDS] (default 30)
  --log-level <level>     [KILN_LOG_LEVEL] (default info)
`;

export function parseWebhookConfig(args: string[], env: Record<string, string | undefined>): WebhookConfig {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      kubeconfig: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      "max-body-bytes": { type: "string" },
      "public-url": { type: "string" },
      namespaces: { type: "string" },
      "secret-cache-seconds": { type: "string" },
      "log-level": { type: "string" },
    },
  });
  const result = webhookConfig.safeParse({
    kubeconfig: values.kubeconfig ?? env.KUBECONFIG,
    host: values.host ?? env.KILN_WEBHOOK_HOST,
    port: values.port ?? env.KILN_WEBHOOK_PORT,
    maxBodyBytes: values["max-body-bytes"] ?? env.KILN_WEBHOOK_MAX_BODY_BYTES,
    publicURL: values["public-url"] ?? env.KILN_PUBLIC_URL,
    namespaces: values.namespaces ?? env.KILN_NAMESPACES,
    secretCacheSeconds: values["secret-cache-seconds"] ?? env.KILN_WEBHOOK_SECRET_CACHE_SECONDS,
    logLevel: values["log-level"] ?? env.KILN_LOG_LEVEL,
  });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`invalid webhook configuration: ${problems.join("; ")}`);
  }
  return result.data;
}
