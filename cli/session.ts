// The cluster a people command talks to, found as kubectl finds it: --kubeconfig, else the files of
// $KUBECONFIG (merged, the first one's current context winning), else ~/.kube/config, else the in-cluster
// service account; --context picks another context; the namespace is -n, else the context's, else default.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../lib/kube.ts";
import type { Connection } from "./args.ts";
import { CliError } from "./errors.ts";

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export type KubeconfigSource =
  | { kind: "files"; files: string[]; from: string }
  | { kind: "in-cluster" }
  | { kind: "none"; reason: string };

/** Which kubeconfig to read. Pure: the environment, home and the file system come in. */
export function kubeconfigSource(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  home: string,
  exists: (path: string) => boolean,
): KubeconfigSource {
  if (flag !== undefined) {
    if (!exists(flag)) return { kind: "none", reason: `--kubeconfig ${flag}: no such file` };
    return { kind: "files", files: [flag], from: "--kubeconfig" };
  }
  const listed = (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  if (listed.length > 0) {
    // kubectl skips the files of the list that are not there.
    const files = listed.filter(exists);
    if (files.length === 0)
      return { kind: "none", reason: `no file of KUBECONFIG exists (${listed.join(delimiter)})` };
    return { kind: "files", files, from: "KUBECONFIG" };
  }
  const standard = join(home, ".kube", "config");
  if (exists(standard)) return { kind: "files", files: [standard], from: "~/.kube/config" };
  if (env.KUBERNETES_SERVICE_HOST && exists(SERVICE_ACCOUNT_TOKEN)) return { kind: "in-cluster" };
  return {
    kind: "none",
    reason: "no kubeconfig: pass --kubeconfig <file>, set KUBECONFIG, or create ~/.kube/config",
  };
}

export interface Session {
  kubeConfig: KubeConfig;
  client: KubeClient;
  namespace: string;
  /** The API server's URL, for messages. */
  server: string;
  close(): void;
}

function load(source: KubeconfigSource): KubeConfig {
  const kc = new KubeConfig();
  if (source.kind === "none") throw new CliError(source.reason);
  if (source.kind === "in-cluster") {
    kc.loadFromCluster();
    return kc;
  }
  const [first, ...others] = source.files;
  try {
    kc.loadFromFile(first!);
    for (const file of others) {
      const next = new KubeConfig();
      next.loadFromFile(file);
      kc.mergeConfig(next);
    }
  } catch (error) {
    throw new CliError(`cannot read the kubeconfig (${source.from}): ${(error as Error).message}`);
  }
  return kc;
}

export function openSession(connection: Connection, env: NodeJS.ProcessEnv = process.env): Session {
  const kubeConfig = load(kubeconfigSource(connection.kubeconfig, env, homedir(), existsSync));
  const contexts = kubeConfig.getContexts().map((c) => c.name);
  if (connection.context !== undefined) {
    if (!contexts.includes(connection.context))
      throw new CliError(
        `the kubeconfig has no context "${connection.context}" (it has ${contexts.join(", ") || "none"})`,
      );
    kubeConfig.setCurrentContext(connection.context);
  }
  const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
  if (!context)
    throw new CliError(
      `the kubeconfig has no current context: pass --context (one of ${contexts.join(", ") || "none"})`,
    );
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new CliError(`context "${context.name}" names no cluster the kubeconfig has`);
  const client = new KubeClient(kubeConfig);
  return {
    kubeConfig,
    client,
    namespace: connection.namespace ?? context.namespace ?? "default",
    server: cluster.server,
    close: () => client.close(),
  };
}
