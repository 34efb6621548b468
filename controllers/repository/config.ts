// The repository controller's own configuration: flags over environment, parsed once.
//   --webhook-url / KILN_WEBHOOK_URL        where GitHub delivers when a Repository's spec.webhook.url is unset
//                                           (the public URL of `kiln webhook`, ending in /hooks/github)
//   --repository-interval / KILN_REPOSITORY_INTERVAL   how often each Repository is looked at again (default 2m)
//   --catch-up-grace / KILN_CATCH_UP_GRACE  how long a branch head may lack a Build before catch-up (default 1m)
//   build access in each Repository namespace (build-access.ts), on unless --no-build-access:
//   --agent-cluster-role / KILN_AGENT_CLUSTER_ROLE, --webhook-service-account / KILN_WEBHOOK_SERVICE_ACCOUNT,
//   --no-build-network-policy / KILN_BUILD_NETWORK_POLICY=false
import { parseArgs } from "node:util";
import { z } from "zod";
import { durationMs } from "../../api/duration.ts";
import { flagSpec } from "../../lib/runtime/module.ts";
import { ConfigError } from "../config.ts";

export const REPOSITORY_FLAGS = flagSpec(
  ["webhook-url", "repository-interval", "catch-up-grace", "agent-cluster-role", "webhook-service-account"],
  ["no-build-access", "no-build-network-policy"],
);

const serviceAccount = z
  .string()
  .regex(/^[a-z0-9-]+:[a-z0-9.-]+$/, 'write it as <namespace>:<name>, such as "kiln:kiln-webhook"')
  .transform((text) => {
    const [namespace, name] = text.split(":") as [string, string];
    return { namespace, serviceAccount: name };
  });

export const repositoryConfig = z.object({
  webhookURL: z.url().optional(),
  intervalMs: durationMs().optional(),
  graceMs: durationMs().optional(),
  buildAccess: z.boolean().default(true),
  agentClusterRole: z.string().min(1).default("kiln-build-agent"),
  webhookServiceAccount: serviceAccount,
  buildNetworkPolicy: z.boolean().default(true),
});
export type RepositoryConfig = z.infer<typeof repositoryConfig>;

export function parseRepositoryConfig(args: string[], env: NodeJS.ProcessEnv): RepositoryConfig {
  const { values } = parseArgs({ args, options: REPOSITORY_FLAGS, strict: false, allowPositionals: true });
  const flag = (name: keyof typeof REPOSITORY_FLAGS) => values[name] as string | undefined;
  const parsed = repositoryConfig.safeParse({
    webhookURL: flag("webhook-url") ?? env.KILN_WEBHOOK_URL,
    intervalMs: flag("repository-interval") ?? env.KILN_REPOSITORY_INTERVAL,
    graceMs: flag("catch-up-grace") ?? env.KILN_CATCH_UP_GRACE,
    buildAccess: values["no-build-access"] === true ? false : env.KILN_BUILD_ACCESS !== "false",
    agentClusterRole: flag("agent-cluster-role") ?? env.KILN_AGENT_CLUSTER_ROLE,
    webhookServiceAccount:
      flag("webhook-service-account") ??
      env.KILN_WEBHOOK_SERVICE_ACCOUNT ??
      `${env.KILN_NAMESPACE || "kiln"}:kiln-webhook`,
    buildNetworkPolicy:
      values["no-build-network-policy"] === true ? false : env.KILN_BUILD_NETWORK_POLICY !== "false",
  });
  if (!parsed.success) {
    // Named by the flag a person typed, not the field it fills.
    const flagOf: Record<string, string> = {
      intervalMs: "--repository-interval",
      graceMs: "--catch-up-grace",
    };
    const issues = parsed.error.issues
      .map((i) => `${flagOf[String(i.path[0])] ?? i.path.join(".")}: ${i.message}`)
      .join("; ");
    throw new ConfigError(`invalid repository controller configuration: ${issues}`);
  }
  return parsed.data;
}
