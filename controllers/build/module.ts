// The build controller as one of `kiln controller`'s modules (controllers/main.ts MODULES). Its settings
// and flags are config.ts beside it (the image, timeouts, revivals, build pod resources and scheduling),
// composed into the process's one configuration.
import type { ControllerModule } from "../../lib/runtime/module.ts";
import { ConfigError, type ControllerConfig } from "../config.ts";
import { createBuildController } from "./controller.ts";
import { parseManifest } from "./parse-manifest.ts";

export const buildModule: ControllerModule<ControllerConfig> = {
  name: "build",
  create: ({ client, config, log, registry }) => {
    const { image } = config;
    if (!image)
      throw new ConfigError(
        "no Kiln image for build pods: set --image or KILN_IMAGE (in a pod, the controller's own image is used)",
      );
    return createBuildController({
      client,
      config: { ...config, image },
      log: log.child({ controller: "build" }),
      registry,
      parse: parseManifest,
    }).controller;
  },
};
