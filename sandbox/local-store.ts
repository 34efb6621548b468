// `kiln store` beside a local cluster (the sandbox, integration tests): the store's install RBAC and account
// on the cluster, the files backend in a local directory, on 127.0.0.1. The store accepts, for reading, tokens
// of the API server's own audience too (`--read-audiences`), so a person's kubeconfig token reads logs there.
import { mkdir } from "node:fs/promises";
import type { Logger } from "../lib/log.ts";
import { ISSUER } from "../stand-ins/apiserver/tokens.ts";
import type { TestCluster } from "../stand-ins/cluster/start.ts";
import { storeKubeconfig } from "../stand-ins/cluster/store-access.ts";
import { parseStoreConfig } from "../store/config.ts";
import { type RunningStore, startStore } from "../store/main.ts";

export interface LocalStoreOptions {
  /** Where the store keeps its files (and its kubeconfig). */
  dir: string;
  log?: Logger;
  port?: number;
  /** Further `kiln store` flags (retention, limits). */
  args?: string[];
}

export async function startLocalStore(
  cluster: TestCluster,
  options: LocalStoreOptions,
): Promise<RunningStore> {
  await mkdir(options.dir, { recursive: true });
  const kubeconfig = await storeKubeconfig(cluster, options.dir);
  const config = parseStoreConfig(
    [
      "--kubeconfig",
      kubeconfig,
      "--host",
      "127.0.0.1",
      "--port",
      String(options.port ?? 0),
      "--metrics-host",
      "127.0.0.1",
      "--metrics-port",
      "0",
      "--backend",
      "files",
      "--dir",
      `${options.dir}/data`,
      "--read-audiences",
      ISSUER,
      ...(options.args ?? []),
    ],
    {},
  );
  return startStore(config, options.log ? { log: options.log } : {});
}
