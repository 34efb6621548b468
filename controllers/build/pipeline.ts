// What the build pod needs to know of a parsed .kiln.yaml (the agent's parser produces more: steps,
// env, caches … which the agent itself reads inside the pod).
export interface PipelineService {
  name: string;
  image: string;
  env?: Record<string, string>;
  ports?: number[];
  /** The container's command; needed only where images are not run (the process kubelet in tests). */
  command?: string[];
  /** How to tell the service is ready: a TCP port, or a command that exits 0. Default: its first port. */
  readiness?: { port?: number; command?: string[] };
}

export interface PodPipeline {
  image: string;
  services: PipelineService[];
}
