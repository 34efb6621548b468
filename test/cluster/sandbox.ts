// `kiln sandbox`: Kiln on one machine without a cluster. Starts the test API server with Kiln's CRDs,
// writes its kubeconfig and says how to use it; runs until SIGINT/SIGTERM.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { createLogger } from "../../lib/log.ts";
import { untilSignal } from "./main.ts";
import { startTestCluster, type TestCluster } from "./start.ts";

/** Components started on top of the cluster (controllers, webhook …); each returns its stop function. */
export type SandboxComponent = (cluster: TestCluster) => Promise<() => Promise<void>>;

// Later issues add the controllers and the webhook here, e.g. `(c) => startControllers(c.kubeConfig)`.
const COMPONENTS: SandboxComponent[] = [];

export async function main(args: string[]): Promise<number> {
  let values: { port: string; kubeconfig: string; kubelet: boolean; help: boolean };
  try {
    values = parseArgs({
      args,
      options: {
        port: { type: "string", default: "6443" },
        kubeconfig: { type: "string", default: "kiln-sandbox.kubeconfig" },
        kubelet: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  if (values.help) {
    console.log("Usage: kiln sandbox [--port 6443] [--kubeconfig kiln-sandbox.kubeconfig] [--kubelet]");
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number, got "${values.port}"`);
    return 2;
  }
  const log = createLogger("sandbox");
  const kubeconfigPath = resolve(values.kubeconfig);
  const cluster = await startTestCluster({ port, kubeconfigPath, kubelet: values.kubelet, logger: log });
  const stops: (() => Promise<void>)[] = [];
  for (const start of COMPONENTS) stops.push(await start(cluster));
  console.log(
    [
      `Kiln sandbox: test API server at ${cluster.url} with Kiln's CRDs${values.kubelet ? " and the process kubelet" : ""}.`,
      `Kubeconfig: ${kubeconfigPath}`,
      "",
      `  export KUBECONFIG=${kubeconfigPath}   # kubectl v1.34: .tools/bin/kubectl (installed by npm ci)`,
      "  kubectl apply -f manifests/examples/repository.yaml",
      "  kubectl get repositories,builds",
      "",
      "Stop with Ctrl-C.",
    ].join("\n"),
  );
  const signal = await untilSignal();
  log.info({ signal }, "stopping");
  for (const stop of stops.reverse()) await stop();
  await cluster.stop();
  return 0;
}
