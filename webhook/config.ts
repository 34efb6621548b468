// `kiln webhook` configuration: flags over environment, parsed and validated once.
import { parseArgs } from "node:util";
import { z } from "zod";

export const DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024; // GitHub caps payloads at 25 MB

export const webhookConfig = z
  .object({
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
    /** `kiln store`, where the build pages read logs from (the controller's flag of the same name). */
    storeURL: z.url().optional(),
    /** The webhook's own token for the store: a projected ServiceAccount token, audience kiln-store. */
    storeTokenFile: z.string().min(1).optional(),
    /** The build pages only for a Kubernetes token that may `get builds/log` in the namespace. */
    pageAuth: z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]).default(false),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .refine((c) => c.storeURL === undefined || c.storeTokenFile !== undefined, {
    path: ["storeTokenFile"],
    message: "--store-url needs --store-token-file: the store reads logs only to a token",
  });
export type WebhookConfig = z.infer<typeof webhookConfig>;

export const USAGE = `Usage: kiln webhook [options]

Receives GitHub deliveries on POST /hooks/github and creates Builds; serves the build pages
(/repositories/<namespace>/<repository>, /builds/<namespace>/<build>).

Options (environment variable in brackets):
  --kubeconfig <file>     kubeconfig to use [KUBECONFIG]; in-cluster config when unset
  --host <addr>           address to listen on [KILN_WEBHOOK_HOST] (default 0.0.0.0)
  --port <port>           port to listen on [KILN_WEBHOOK_PORT] (default 8080)
  --max-body-bytes <n>    largest accepted delivery [KILN_WEBHOOK_MAX_BODY_BYTES] (default 25 MB)
  --public-url <url>      URL GitHub reaches this server at [KILN_PUBLIC_URL]
  --namespaces <a,b>      namespaces whose Repositories to serve [KILN_NAMESPACES] (default: all)
  --secret-cache-seconds  how long webhook secrets are cached [KILN_WEBHOOK_SECRET_CACHE_SECONDS] (default 30)
  --store-url <url>       kiln store, for the build pages' logs [KILN_STORE_URL]; without it, no logs
  --store-token-file <f>  the webhook's token for the store (audience kiln-store) [KILN_STORE_TOKEN_FILE]
  --page-auth             build pages only for a Kubernetes bearer token that may get builds/log
                          in the namespace [KILN_PAGE_AUTH=true] (default: anyone who reaches them)
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
      "store-url": { type: "string" },
      "store-token-file": { type: "string" },
      "page-auth": { type: "boolean" },
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
    storeURL: values["store-url"] ?? env.KILN_STORE_URL,
    storeTokenFile: values["store-token-file"] ?? env.KILN_STORE_TOKEN_FILE,
    pageAuth: values["page-auth"] ?? env.KILN_PAGE_AUTH,
    logLevel: values["log-level"] ?? env.KILN_LOG_LEVEL,
  });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`invalid webhook configuration: ${problems.join("; ")}`);
  }
  return result.data;
}
