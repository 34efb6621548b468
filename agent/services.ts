// A service of .kiln.yaml as it runs beside the build, the same in the build pod and in `kiln run
// --image`: when it counts as up (its readiness check: the pod's startup probe), and the env, command
// and args its container gets, `$(VAR)` expanded as the kubelet expands them.
import { expand } from "../lib/container/expand.ts";
import type { Service } from "./manifest-schema.ts";

/** How long a service may take to be up when its `ready` sets no timeout. */
export const DEFAULT_READY_TIMEOUT_MS = 5 * 60_000;

/** A TCP port that accepts connections, or a command (in the service's container) that exits 0. */
export type ReadyCheck = ({ port: number } | { command: string[] }) & { timeoutMs: number };

/** `ready.port`, `ready.command` (run by sh), else the first of `ports`; none: up once started. */
export function readyCheck(service: Service): ReadyCheck | undefined {
  const timeoutMs = service.ready?.timeout ?? DEFAULT_READY_TIMEOUT_MS;
  if (service.ready?.command !== undefined)
    return { command: ["sh", "-c", service.ready.command], timeoutMs };
  const port = service.ready?.port ?? service.ports?.[0];
  return port === undefined ? undefined : { port, timeoutMs };
}

/**
 * The env, command and args of a container after the kubelet's `$(VAR)` expansion: each env value over
 * the entries before it, command and args over the whole env (never the image's). A container engine
 * (docker, podman) does not expand, so `kiln run --image` does it first.
 */
export function expandContainer(container: {
  env: [string, string][];
  command?: string[] | undefined;
  args?: string[] | undefined;
}): { env: [string, string][]; command?: string[]; args?: string[] } {
  const vars = new Map<string, string>();
  for (const [name, value] of container.env)
    vars.set(
      name,
      expand(value, (n) => vars.get(n)),
    );
  const lookup = (n: string) => vars.get(n);
  return {
    env: [...vars],
    ...(container.command && { command: container.command.map((s) => expand(s, lookup)) }),
    ...(container.args && { args: container.args.map((s) => expand(s, lookup)) }),
  };
}
