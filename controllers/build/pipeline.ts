// What the build pod needs to know of a parsed .kiln.yaml (the agent's parser produces more: steps,
// env, caches … which the agent itself reads inside the pod).
import type { Resources, User } from "../../agent/manifest-schema.ts";
import type { ReadyCheck } from "../../agent/services.ts";

export type { Resources as PipelineResources, User as PipelineUser } from "../../agent/manifest-schema.ts";

export interface PipelineService {
  name: string;
  image: string;
  env?: Record<string, string>;
  ports?: number[];
  /** The container's command and args (replacing the image's entrypoint and default arguments). */
  command?: string[];
  args?: string[];
  user?: User;
  resources?: Resources;
  /** When it is up (the startup probe): a TCP port or a command, and how long that may take. */
  ready?: ReadyCheck;
}

/** A `.kiln.yaml` secret: the variable `env` of the build container is key `key` of Secret `name`. */
export interface PipelineSecret {
  env: string;
  secretRef: { name: string; key: string };
}

export interface PodPipeline {
  image: string;
  /** The build container's user; unset: the image's own. */
  user?: User;
  resources?: Resources;
  services: PipelineService[];
  /** In `.kiln.yaml` order (a missing one is named by its index there); never given to forks. */
  secrets?: PipelineSecret[];
  /** `cache.paths` as written: those outside the workspace are mounted (api/cache.ts cacheMounts). */
  cachePaths?: string[];
}
