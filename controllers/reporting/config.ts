// The reporting controller's configuration, parsed once from flags and environment by the entry point.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { flagSpec } from "../../lib/runtime/module.ts";
import { ConfigError } from "../config.ts";

export const reportingConfig = z.object({
  /** Telegram bot token; without it Kiln announces on GitHub only. */
  telegramToken: z.string().min(1).optional(),
  /** Why there is no token, when a token file was named but is not there (said once in the log). */
  telegramOff: z.string().optional(),
  telegramAPIRoot: z.url().default("https://api.telegram.org"),
  /** Answer bot commands (long polling). */
  telegramCommands: z.boolean().default(true),
  githubAPIURL: z.url().optional(),
  /** Base of links to builds in messages and commit statuses. */
  publicURL: z.url().optional(),
  statusContext: z.string().min(1).max(255).default("kiln"),
});
export type ReportingConfig = z.infer<typeof reportingConfig>;

export const REPORTING_FLAGS = flagSpec(
  ["telegram-token-file", "telegram-api-root", "public-url", "status-context"],
  ["telegram-commands"],
);

/**
 * The token in a file, if the file is there. A missing file is no chat, not an error: the installed
 * Deployment mounts the optional kiln-telegram Secret there, and without that Secret the file is absent.
 * A file that is there but unreadable is a real misconfiguration.
 */
function readToken(path: string | undefined): { token?: string; off?: string } {
  if (!path) return {};
  try {
    return { token: readFileSync(path, "utf8").trim() };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      return { off: `no Telegram token file at ${path} (is the kiln-telegram Secret there?): chat is off` };
    throw new ConfigError(`cannot read the Telegram token file ${path}: ${(err as Error).message}`);
  }
}

/**
 * Flags win over environment: --telegram-token-file / KILN_TELEGRAM_TOKEN_FILE (or KILN_TELEGRAM_TOKEN),
 * --telegram-api-root / KILN_TELEGRAM_API_ROOT, KILN_GITHUB_API_URL (kiln controller's own
 * --github-api-url is passed in as githubAPIURL), --public-url / KILN_PUBLIC_URL, --status-context / KILN_STATUS_CONTEXT.
 * Unknown flags are left for the caller (strict: false).
 */
export function parseReportingConfig(
  args: string[],
  env: NodeJS.ProcessEnv,
  defaults: { githubAPIURL?: string } = {},
): ReportingConfig {
  const { values } = parseArgs({ args, options: REPORTING_FLAGS, strict: false, allowPositionals: true });
  const flag = (name: keyof typeof REPORTING_FLAGS) => values[name] as string | undefined;
  const file = readToken(flag("telegram-token-file") ?? env.KILN_TELEGRAM_TOKEN_FILE);
  const token = file.token ?? env.KILN_TELEGRAM_TOKEN;
  const parsed = reportingConfig.safeParse({
    telegramToken: token || undefined,
    telegramOff: token ? undefined : file.off,
    telegramAPIRoot: flag("telegram-api-root") ?? env.KILN_TELEGRAM_API_ROOT,
    telegramCommands:
      (values["telegram-commands"] as boolean | undefined) ?? env.KILN_TELEGRAM_COMMANDS !== "false",
    githubAPIURL: defaults.githubAPIURL ?? env.KILN_GITHUB_API_URL,
    publicURL: flag("public-url") ?? env.KILN_PUBLIC_URL,
    statusContext: flag("status-context") ?? env.KILN_STATUS_CONTEXT,
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid reporting configuration: ${issues}`);
  }
  return parsed.data;
}
