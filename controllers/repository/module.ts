// The repository controller as one of `kiln controller`'s modules (controllers/main.ts MODULES).
// Its own flags, flags over environment:
//   --webhook-url / KILN_WEBHOOK_URL        where GitHub delivers when a Repository's spec.webhook.url is unset
//                                           (the public URL of `kiln webhook`, ending in /hooks/github)
//   --repository-interval / KILN_REPOSITORY_INTERVAL   how often each Repository is looked at again (default 2m)
//   --catch-up-grace / KILN_CATCH_UP_GRACE  how long a branch head may lack a Build before catch-up (default 1m)
import { parseArgs } from "node:util";
import { z } from "zod";
import { parseDuration } from "../../api/duration.ts";
import { ConfigError } from "../config.ts";
import type { ControllerModule } from "../main.ts";
import { createRepositoryController } from "./controller.ts";

export const REPOSITORY_FLAGS = {
  "webhook-url": { type: "string" },
  "repository-interval": { type: "string" },
  "catch-up-grace": { type: "string" },
} as const;

const duration = (name: string) =>
  z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      const ms = parseDuration(text);
      if (ms === undefined)
        ctx.addIssue({ code: "custom", message: `${name}: "${text}" is not a duration such as 30s or 2m` });
      return ms;
    });

export const repositoryConfig = z.object({
  webhookURL: z.url().optional(),
  intervalMs: duration("repository-interval"),
  graceMs: duration("catch-up-grace"),
});
export type RepositoryConfig = z.infer<typeof repositoryConfig>;

export function parseRepositoryConfig(args: string[], env: NodeJS.ProcessEnv): RepositoryConfig {
  const { values } = parseArgs({ args, options: REPOSITORY_FLAGS, strict: false, allowPositionals: true });
  const flag = (name: keyof typeof REPOSITORY_FLAGS) => values[name] as string | undefined;
  const parsed = repositoryConfig.safeParse({
    webhookURL: flag("webhook-url") ?? env.KILN_WEBHOOK_URL,
    intervalMs: flag("repository-interval") ?? env.KILN_REPOSITORY_INTERVAL,
    graceMs: flag("catch-up-grace") ?? env.KILN_CATCH_UP_GRACE,
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid repository controller configuration: ${issues}`);
  }
  return parsed.data;
}

export const repositoryModule: ControllerModule = {
  name: "repository",
  flags: REPOSITORY_FLAGS,
  usage: `Repositories (webhook registration, redelivery, catch-up):
  --webhook-url <url>            where GitHub delivers when spec.webhook.url is unset [KILN_WEBHOOK_URL]
  --repository-interval <d>      how often each Repository is looked at again [KILN_REPOSITORY_INTERVAL] (2m)
  --catch-up-grace <d>           how long a branch head may lack a Build before catch-up [KILN_CATCH_UP_GRACE] (1m)
`,
  create({ kubeConfig, client, config, log, args, env }) {
    const own = parseRepositoryConfig(args, env);
    return createRepositoryController({
      kubeConfig,
      client,
      log,
      namespaces: config.namespaces,
      apiURL: config.githubApiURL,
      ...(own.webhookURL && { webhookURL: own.webhookURL }),
      ...(own.intervalMs !== undefined && { intervalMs: own.intervalMs }),
      ...(own.graceMs !== undefined && { graceMs: own.graceMs }),
    });
  },
};
