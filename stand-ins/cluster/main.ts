// `npm run test-cluster -- --port <p> --kubeconfig <file> [--kubelet]`: the test cluster standalone,
// for people and scripts; runs until SIGINT/SIGTERM.
import { parseArgs } from "node:util";
import { createLogger } from "../../lib/log.ts";
import { startTestCluster } from "./start.ts";

export interface ClusterArgs {
  port: number;
  kubeconfig: string;
  kubelet: boolean;
  crds: boolean;
}

/** A --<name> option's port number (0: any free port). */
export function parsePort(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`--${name} must be a port number, got "${text}"`);
  return n;
}

export function parseClusterArgs(args: string[]): ClusterArgs {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "6443" },
      kubeconfig: { type: "string", default: "kubeconfig" },
      kubelet: { type: "boolean", default: false },
      "no-crds": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help)
    throw new Error("usage: test-cluster [--port 6443] [--kubeconfig ./kubeconfig] [--kubelet] [--no-crds]");
  const port = parsePort("port", values.port);
  return { port, kubeconfig: values.kubeconfig, kubelet: values.kubelet, crds: !values["no-crds"] };
}

/** Resolves when SIGINT or SIGTERM arrives. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const done = (signal: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(signal);
    };
    const onInt = () => done("SIGINT");
    const onTerm = () => done("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
}

export async function main(args: string[]): Promise<number> {
  let parsed: ClusterArgs;
  try {
    parsed = parseClusterArgs(args);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const log = createLogger("test-cluster");
  const cluster = await startTestCluster({
    port: parsed.port,
    kubeconfigPath: parsed.kubeconfig,
    kubelet: parsed.kubelet,
    applyCRDs: parsed.crds,
    logger: log,
  });
  log.info({ url: cluster.url, kubeconfig: parsed.kubeconfig }, "test cluster ready");
  const signal = await untilSignal();
  log.info({ signal }, "stopping");
  await cluster.stop();
  return 0;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
