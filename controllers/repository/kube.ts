// The repository controller's Kubernetes writes (merge patches, conditional on resourceVersion) and reads
// of Secrets; Repositories and Builds come from informer caches.
import type { BuildInput } from "../../api/build.ts";
import { API_VERSION, RESOURCES } from "../../api/group.ts";
import { repository as repositorySchema } from "../../api/repository.ts";
import { type KubeClient, resourcePath } from "../../lib/kube.ts";
import { isAlreadyExists } from "../../lib/kube-errors.ts";
import { readSecretKey } from "../../lib/kube-secrets.ts";
import type { RepositoryDeps } from "./deps.ts";

const repositoryPath = (namespace: string, name: string) =>
  resourcePath(API_VERSION, RESOURCES.Repository.plural, namespace, name);

export function kubeRepositoryWrites(
  client: KubeClient,
): Pick<RepositoryDeps, "readSecretKey" | "patchMetadata" | "patchStatus" | "createBuild"> {
  return {
    readSecretKey: (namespace, name, key) => readSecretKey(client, namespace, name, key),
    async patchMetadata(namespace, name, metadata) {
      // Parsed, so the defaults the reconciler relies on are there even if the server did not apply them.
      return repositorySchema.parse(await client.mergePatch(repositoryPath(namespace, name), { metadata }));
    },
    async patchStatus(namespace, name, resourceVersion, status) {
      await client.mergePatch(`${repositoryPath(namespace, name)}/status`, {
        metadata: { resourceVersion },
        status,
      });
    },
    async createBuild(build: BuildInput) {
      const namespace = build.metadata.namespace ?? "default";
      try {
        await client.create(resourcePath(API_VERSION, RESOURCES.Build.plural, namespace), build);
        return "created";
      } catch (err) {
        if (isAlreadyExists(err)) return "exists";
        throw err;
      }
    },
  };
}
