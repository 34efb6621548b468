// The few Kubernetes API calls the announcer and the bot make, behind one small interface so the
// reconciler reads as plain steps and tests can see exactly what is written.
import { CoreV1Api } from "@kubernetes/client-node";
import type { Build, BuildInput } from "../../api/build.ts";
import { API_VERSION, RESOURCES } from "../../api/group.ts";
import type { Repository } from "../../api/repository.ts";
import { type KubeClient, resourcePath } from "../../lib/kube.ts";
import { builds, repositories } from "../../lib/kube-objects.ts";
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
  /** "exists" when a Build of that name is there already. */
  createBuild(namespace: string, build: BuildInput): Promise<"created" | "exists">;
  readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined>;
  podLogTail(namespace: string, pod: string, container: string, lines: number): Promise<string>;
}

export function kubeReportingApi(client: KubeClient): ReportingApi {
  // Pod logs are text, not JSON: client-node reads them.
  const core = client.kubeConfig.makeApiClient(CoreV1Api);
  const b = builds(client);
  const r = repositories(client);
  return {
    getBuild: (namespace, name) => b.get(namespace, name),
    listBuilds: (namespace) => b.list(namespace),
    getRepository: (namespace, name) => r.get(namespace, name),
    listRepositories: (namespace) => r.list(namespace),
    patchBuildStatus: (namespace, name, body) =>
      client.mergePatch(`${resourcePath(API_VERSION, RESOURCES.Build.plural, namespace, name)}/status`, body),
    patchRepositoryStatus: (namespace, name, body) =>
      client.mergePatch(
        `${resourcePath(API_VERSION, RESOURCES.Repository.plural, namespace, name)}/status`,
        body,
      ),
    patchBuild: (namespace, name, body) => b.patch(namespace, name, body),
    createBuild: (namespace, body) => b.create(namespace, body),
    readSecretKey: (namespace, name, key) => readSecretKey(client, namespace, name, key),
    podLogTail: (namespace, name, container, tailLines) =>
      core.readNamespacedPodLog({ namespace, name, container, tailLines }),
  };
}
