// What starting a container needs, decided as a pure function of the pod, the container and the
// objects it refers to: its environment, its command line and the user it runs as — or why it
// cannot start (retried when a missing object may still appear, final when the spec is at fault).
import * as path from "node:path";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { containerArgv, type KilnCli, runtimeEnv } from "./command.ts";
import { type EnvInputs, resolveEnv } from "./env.ts";
import { resolveSecurity, type Security } from "./security.ts";

export interface ContainerPlan {
  env: Map<string, string>;
  /** The command as the user asked for it (after $(VAR) expansion and the kiln mapping). */
  argv: string[];
  security: Security;
}

export type PlanResult =
  | { ok: true; plan: ContainerPlan }
  | { ok: false; reason: string; message: string; retry: boolean };

export function planContainer(
  pod: V1Pod,
  c: V1Container,
  inputs: EnvInputs,
  runtime: { hostname: string; kiln: KilnCli },
): PlanResult {
  const env = resolveEnv(pod, c, inputs);
  // A Secret or ConfigMap may still be created: the kubelet keeps trying.
  if (!env.ok) return { ...env, retry: true };
  const security = resolveSecurity(pod, c);
  if (!security.ok) return { ...security, retry: false };
  const processEnv = runtimeEnv(
    env.env,
    runtime.hostname,
    path.dirname(runtime.kiln.node),
    security.security.uid,
  );
  const argv = containerArgv(c, processEnv, runtime.kiln);
  if (!argv.ok) return { ...argv, retry: false };
  return { ok: true, plan: { env: processEnv, argv: argv.argv, security: security.security } };
}
