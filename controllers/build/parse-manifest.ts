// The controller's reading of .kiln.yaml: the agent's parser (the same validation and located errors
// the agent applies inside the pod), reduced to what the pod needs — the build image, the services, the
// secrets and where caches are mounted.
import { formatError, parsePipeline } from "../../agent/manifest.ts";
import { readyCheck } from "../../agent/services.ts";
import type { ParsedManifest } from "./manifest-source.ts";
import type { PipelineService } from "./pipeline.ts";

/** At most this many errors go into the Build's message; the rest are counted. */
const MAX_ERRORS = 3;

export function parseManifest(text: string, file: string): ParsedManifest {
  const result = parsePipeline(text, file);
  if (!result.ok) {
    const shown = result.errors.slice(0, MAX_ERRORS).map(formatError);
    const more = result.errors.length - shown.length;
    return {
      ok: false,
      reason: "InvalidManifest",
      message: more > 0 ? `${shown.join("; ")} (and ${more} more)` : shown.join("; "),
    };
  }
  const { image, services, user, resources, secrets, cache } = result.pipeline;
  if (!image) {
    // `kiln run` ignores images; a cluster needs one.
    return {
      ok: false,
      reason: "InvalidManifest",
      message: `${file}:1:1: image: is required to build in a cluster`,
    };
  }
  return {
    ok: true,
    pipeline: {
      image,
      ...(user && { user }),
      ...(resources && { resources }),
      ...(secrets.length > 0 && { secrets }),
      ...(cache && { cachePaths: cache.paths }),
      services: services.map((s): PipelineService => {
        const ready = readyCheck(s);
        return {
          name: s.name,
          image: s.image,
          ...(s.command && { command: s.command }),
          ...(s.args && { args: s.args }),
          ...(s.user && { user: s.user }),
          ...(s.resources && { resources: s.resources }),
          env: s.env,
          ports: s.ports,
          ...(ready && { ready }),
        };
      }),
    },
  };
}
