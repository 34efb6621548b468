// What a controller of `kiln controller` is to the process that runs it: a name, its own flags, and a
// factory that gets the shared context (one Kubernetes client, one metrics registry, the logger) and
// returns something to start and stop behind the process's leader election.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import type { KubeClient } from "../kube.ts";
import type { Logger } from "../log.ts";

/** node:util parseArgs option specs: a controller's own flags, accepted by the process's parser. */
export type FlagSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean }>;

/** A controller's flags by name: those that take a value, and the switches. */
export function flagSpec(strings: readonly string[], switches: readonly string[] = []): FlagSpec {
  return Object.fromEntries([
    ...strings.map((name) => [name, { type: "string" as const }]),
    ...switches.map((name) => [name, { type: "boolean" as const }]),
  ]);
}

export interface ControllerContext<Config> {
  kubeConfig: KubeConfig;
  client: KubeClient;
  /** The process's shared configuration (namespaces, leader election, …). */
  config: Config;
  log: Logger;
  registry: Registry;
  /** The command line and environment, for a module's own flags (declared in its `flags`). */
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface Runnable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ControllerModule<Config> {
  name: string;
  flags?: FlagSpec;
  /** Help lines for the module's own flags, appended to the process's --help. */
  usage?: string;
  create(context: ControllerContext<Config>): Runnable | Promise<Runnable>;
}
