// The announcer as one of `kiln controller`'s modules (controllers/main.ts MODULES).
import type { ControllerModule } from "../main.ts";
import { parseReportingConfig, REPORTING_FLAGS } from "./config.ts";
import { reportingController } from "./controller.ts";

export const reportingModule: ControllerModule = {
  name: "reporting",
  flags: REPORTING_FLAGS,
  create({ kubeConfig, config, log, registry, args, env }) {
    const reporting = reportingController({
      kubeConfig,
      config: parseReportingConfig(args, env, { githubAPIURL: config.githubApiURL }),
      log: log.child({ controller: "reporting" }),
      namespaces: config.namespaces,
      registry,
      workers: config.workers,
    });
    return { start: () => reporting.start(), stop: () => reporting.stop() };
  },
};
