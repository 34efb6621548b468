// The repository controller's Kubernetes writes (merge patches, conditional on resourceVersion) and reads
// of Secrets, through lib/kube-objects.ts; Repositories and Builds come from informer caches.
import type { BuildInput } from "../../api/build.ts";
import { repository as repositorySchema } from "../../api/repository.ts";
import type { KubeClient } from "../../lib/kube.ts";
import { builds, repositories } from "../../lib/kube-objects.ts";
import { readSecretKey } from "../../lib/kube-secrets.ts";
import type { RepositoryDeps } from "./deps.ts";

export function kubeRepositoryWrites(
  client: KubeClient,
): Pick<RepositoryDeps, "readSecretKey" | "patchMetadata" | "patchStatus" | "createBuild"> {
  const repos = repositories(client);
  return {
    readSecretKey: (namespace, name, key) => readSecretKey(client, namespace, name, key),
    // Parsed, so the defaults the reconciler relies on are there even if the server did not apply them.
    patchMetadata: async (namespace, name, metadata) =>
      repositorySchema.parse(await repos.patch(namespace, name, { metadata })),
    async patchStatus(namespace, name, resourceVersion, status) {
      await repos.patchStatus(namespace, name, resourceVersion, status);
    },
    createBuild: (build: BuildInput) => builds(client).create(build.metadata.namespace ?? "default", build),
  };
}
