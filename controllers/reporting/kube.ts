// The few Kubernetes API calls the announcer and the bot make, behind one small interface so the
// reconciler reads as plain steps and tests can see exactly what is written.
import { CoreV1Api } from "@kubernetes/client-node";
import type { Build, BuildInput } from "../../api/build.ts";
import { API_VERSION, RESOURCES } from "../../api/group.ts";
import type { Repository } from "../../api/repository.ts";
import { type KubeClient, resourcePath } from "../../lib/kube.ts";
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
  /** JSON merge patch of the Build itself (annotations, spec): what the chat's commands change. */
  patchBuild(namespace: string, name: string, patch: object): Promise<Build>;
  createBuild(namespace: string, build: BuildInput): Promise<Build>;
  readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined>;
  podLogTail(namespace: string, pod: string, container: string, lines: number): Promise<string>;
}

async function orUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function kubeReportingApi(client: KubeClient): ReportingApi {
  // Pod logs are text, not JSON: client-node reads them.
  const core = client.kubeConfig.makeApiClient(CoreV1Api);
  const builds = (namespace: string, name?: string) =>
    resourcePath(API_VERSION, RESOURCES.Build.plural, namespace, name);
  const repositories = (namespace?: string, name?: string) =>
    resourcePath(API_VERSION, RESOURCES.Repository.plural, namespace, name);
  return {
    getBuild: (namespace, name) => orUndefined(client.get<Build>(builds(namespace, name))),
    listBuilds: async (namespace) => (await client.list<Build>(builds(namespace))).items,
    getRepository: (namespace, name) => orUndefined(client.get<Repository>(repositories(namespace, name))),
    listRepositories: async (namespace) => (await client.list<Repository>(repositories(namespace))).items,
    patchBuildStatus: (namespace, name, body) => client.mergePatch(`${builds(namespace, name)}/status`, body),
    patchRepositoryStatus: (namespace, name, body) =>
      client.mergePatch(`${repositories(namespace, name)}/status`, body),
    patchBuild: (namespace, name, body) => client.mergePatch(builds(namespace, name), body),
    createBuild: (namespace, body) => client.create(builds(namespace), body),
    readSecretKey: (namespace, name, key) => readSecretKey(client, namespace, name, key),
    podLogTail: (namespace, name, container, tailLines) =>
      core.readNamespacedPodLog({ namespace, name, container, tailLines }),
  };
}
