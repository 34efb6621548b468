// startTestCluster: the test API server, a kubeconfig file for kubectl and client-node, Kiln's CRDs
// applied, and (when asked) the process kubelet. One call per test file; stop() undoes everything.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import type { Logger } from "../../lib/log.ts";
import { startTestApiServer, type TestApiServer, type TestApiServerOptions } from "../apiserver/server.ts";
import type { KubeObject } from "../apiserver/storage.ts";
import { stopAll } from "../teardown.ts";
import { writeKubeconfig } from "./kubeconfig.ts";

export interface TestCluster {
  /** https://127.0.0.1:<port> */
  url: string;
  /** A kubeconfig file for kubectl and client-node (admin bearer token, CA data). */
  kubeconfigPath: string;
  /** @kubernetes/client-node, loaded from that file. */
  kubeConfig: KubeConfig;
  /** The in-process server handle. */
  server: TestApiServer;
  stop(): Promise<void>;
}

export interface TestClusterOptions {
  port?: number;
  /** Apply manifests/crds (default true). */
  applyCRDs?: boolean;
  /** Start the process kubelet too (default false). */
  kubelet?: boolean;
  /** Where to write the kubeconfig; a fresh temporary directory by default. */
  kubeconfigPath?: string;
  /** Passed to the API server (history size, bookmark interval, clock …). */
  server?: Omit<TestApiServerOptions, "port">;
  logger?: Logger;
}

export const CRD_DIR = resolve(import.meta.dirname, "../../manifests/crds");

/** Every CustomResourceDefinition in a directory of YAML manifests. */
export async function readCRDs(dir: string = CRD_DIR): Promise<KubeObject[]> {
  const crds: KubeObject[] = [];
  for (const file of (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), "utf8"))) {
      const o = doc.toJS() as KubeObject | null;
      if (o?.kind === "CustomResourceDefinition") crds.push(o);
    }
  }
  return crds;
}

/** Creates (or replaces) CRDs through the server's own object lifecycle, as `kubectl apply` would. */
export function applyCRDs(server: TestApiServer, crds: KubeObject[]): void {
  const t = server.registry.find("apiextensions.k8s.io", "v1", "customresourcedefinitions")!;
  for (const crd of crds) {
    const existing = server.objects.find(t, undefined, crd.metadata.name!);
    if (existing)
      server.objects.update(t, undefined, crd.metadata.name!, {
        ...crd,
        metadata: { ...crd.metadata, resourceVersion: existing.metadata.resourceVersion },
      });
    else server.objects.create(t, undefined, crd);
  }
}

export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const server = await startTestApiServer({
    ...options.server,
    port: options.port,
    logger: options.logger ?? options.server?.logger,
  });
  let tempDir: string | undefined;
  const removeTempDir = () => tempDir && rm(tempDir, { recursive: true, force: true });
  const stops: (() => Promise<void>)[] = [];
  try {
    if (options.applyCRDs ?? true) applyCRDs(server, await readCRDs());
    let kubeconfigPath = options.kubeconfigPath;
    if (!kubeconfigPath) {
      tempDir = await mkdtemp(join(tmpdir(), "kiln-cluster-"));
      kubeconfigPath = join(tempDir, "kubeconfig");
    }
    await writeKubeconfig(kubeconfigPath, {
      server: server.url,
      caPem: server.caPem,
      token: server.adminToken,
    });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    if (options.kubelet) {
      // Loaded only when asked for: most tests need no kubelet (and no bubblewrap).
      const kubelet = await import("../kubelet/kubelet.ts");
      const running = await kubelet.startKubelet({
        kubeConfig,
        setPodLogSource: (source) => server.setPodLogSource(source),
        setPodExecHandler: (handler) => server.setPodExecHandler(handler),
        log: options.logger,
      });
      stops.push(() => running.stop());
    }
    let stopped = false;
    return {
      url: server.url,
      kubeconfigPath,
      kubeConfig,
      server,
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopAll(...stops.reverse(), () => server.close(), removeTempDir);
      },
    };
  } catch (error) {
    // The start-up error is the one to report; teardown failures would hide it.
    await stopAll(...stops.reverse(), () => server.close(), removeTempDir).catch(() => {});
    throw error;
  }
}
