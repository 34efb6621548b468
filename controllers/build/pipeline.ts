// What the build pod needs to know of a parsed .kiln.yaml (the agent's parser produces more: steps,
// env, caches … which the agent itself reads inside the pod).
import type { Resources, User } from "../../agent/manifest-schema.ts";

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
  /** How to tell the service is ready: a TCP port, or a command that exits 0. Default: its first port. */
  readiness?: { port?: number; command?: string[] };
}

export interface PodPipeline {
  image: string;
  /** The build container's user; unset: the image's own. */
  user?: User;
  resources?: Resources;
  services: PipelineService[];
}
