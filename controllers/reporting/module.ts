// The announcer as one of `kiln controller`'s modules (controllers/main.ts MODULES).

import type { ControllerModule } from "../../lib/runtime/module.ts";
import { storeClientFor } from "../../lib/store-client.ts";
import type { ControllerConfig } from "../config.ts";
import { parseReportingConfig, REPORTING_FLAGS } from "./config.ts";
import { reportingController } from "./controller.ts";

export const reportingModule: ControllerModule<ControllerConfig> = {
  name: "reporting",
  flags: REPORTING_FLAGS,
  usage: `Reporting (Telegram, GitHub commit statuses):
  --telegram-token-file <file>   bot token [KILN_TELEGRAM_TOKEN_FILE, KILN_TELEGRAM_TOKEN]; no token: no chat
  --telegram-api-root <url>      Bot API root [KILN_TELEGRAM_API_ROOT] (https://api.telegram.org)
  --telegram-commands            answer the bot commands (/builds, /log, and the admins' /rerun, /cancel, /hold, /release, /approve); on unless KILN_TELEGRAM_COMMANDS=false
  --public-url <url>             link target in messages and statuses [KILN_PUBLIC_URL]
  --status-context <name>        GitHub commit status context [KILN_STATUS_CONTEXT] (kiln)
`,
  create({ kubeConfig, client, config, log, registry, args, env }) {
    const reporting = reportingController({
      kubeConfig,
      client,
      config: parseReportingConfig(args, env, { githubAPIURL: config.githubApiURL }),
      log: log.child({ controller: "reporting" }),
      namespaces: config.namespaces,
      registry,
      workers: config.workers,
      ...(config.storeURL && config.storeTokenFile
        ? { store: storeClientFor({ url: config.storeURL, tokenFile: config.storeTokenFile }) }
        : {}),
    });
    return { start: () => reporting.start(), stop: () => reporting.stop() };
  },
};
