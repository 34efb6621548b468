// The few Kubernetes API calls the announcer and the bot make, behind one small interface so the
// reconciler reads as plain steps and tests can see exactly what is written.
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import type { Build, BuildInput } from "../../api/build.ts";
import { GROUP, RESOURCES, VERSION } from "../../api/group.ts";
import type { Repository } from "../../api/repository.ts";
import { isNotFound } from "../../lib/kube-errors.ts";
import { readSecretKey } from "../../lib/kube-secrets.ts";

export interface ReportingApi {
  getBuild(namespace: string, name: string): Promise<Build | undefined>;
  listBuilds(namespace: string): Promise<Build[]>;
  getRepository(namespace: string, name: string): Promise<Repository | undefined>;
  listRepositories(namespace?: string): Promise<Repository[]>;
  /** JSON merge patch on /status; include metadata.resourceVersion to make it conditional (409 on conflict). */
  patchBuildStatus(namespace: string, name: string, patch: object): Promise<Build>;
  patchRepositoryStatus(namespace: string, name: string, patch: object): Promise<Repository>;
  createBuild(namespace: string, build: BuildInput): Promise<Build>;
  readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined>;
  podLogTail(namespace: string, pod: string, container: string, lines: number): Promise<string>;
}

const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

async function orUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function kubeReportingApi(kubeConfig: KubeConfig): ReportingApi {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const builds = { group: GROUP, version: VERSION, plural: RESOURCES.Build.plural };
  const repositories = { group: GROUP, version: VERSION, plural: RESOURCES.Repository.plural };
  return {
    getBuild: (namespace, name) =>
      orUndefined(custom.getNamespacedCustomObject({ ...builds, namespace, name })),
    async listBuilds(namespace) {
      const list = await custom.listNamespacedCustomObject({ ...builds, namespace });
      return (list as { items: Build[] }).items;
    },
    getRepository: (namespace, name) =>
      orUndefined(custom.getNamespacedCustomObject({ ...repositories, namespace, name })),
    async listRepositories(namespace) {
      const list = namespace
        ? await custom.listNamespacedCustomObject({ ...repositories, namespace })
        : await custom.listClusterCustomObject(repositories);
      return (list as { items: Repository[] }).items;
    },
    patchBuildStatus: (namespace, name, body) =>
      custom.patchNamespacedCustomObjectStatus({ ...builds, namespace, name, body }, merge),
    patchRepositoryStatus: (namespace, name, body) =>
      custom.patchNamespacedCustomObjectStatus({ ...repositories, namespace, name, body }, merge),
    createBuild: (namespace, body) => custom.createNamespacedCustomObject({ ...builds, namespace, body }),
    readSecretKey: (namespace, name, key) => readSecretKey(core, namespace, name, key),
    podLogTail: (namespace, name, container, tailLines) =>
      core.readNamespacedPodLog({ namespace, name, container, tailLines }),
  };
}
