// The repository controller's Kubernetes writes (merge patches, conditional on resourceVersion) and reads
// of Secrets; Repositories and Builds come from informer caches.
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import type { BuildInput } from "../../api/build.ts";
import { GROUP, RESOURCES, VERSION } from "../../api/group.ts";
import { repository as repositorySchema } from "../../api/repository.ts";
import { isAlreadyExists } from "../../lib/kube-errors.ts";
import { readSecretKey } from "../../lib/kube-secrets.ts";
import type { RepositoryDeps } from "./deps.ts";

const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export function kubeRepositoryWrites(
  kubeConfig: KubeConfig,
): Pick<RepositoryDeps, "readSecretKey" | "patchMetadata" | "patchStatus" | "createBuild"> {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const repositories = { group: GROUP, version: VERSION, plural: RESOURCES.Repository.plural };
  return {
    readSecretKey: (namespace, name, key) => readSecretKey(core, namespace, name, key),
    async patchMetadata(namespace, name, metadata) {
      // Parsed, so the defaults the reconciler relies on are there even if the server did not apply them.
      return repositorySchema.parse(
        await custom.patchNamespacedCustomObject(
          { ...repositories, namespace, name, body: { metadata } },
          merge,
        ),
      );
    },
    async patchStatus(namespace, name, resourceVersion, status) {
      await custom.patchNamespacedCustomObjectStatus(
        { ...repositories, namespace, name, body: { metadata: { resourceVersion }, status } },
        merge,
      );
    },
    async createBuild(build: BuildInput) {
      try {
        await custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: RESOURCES.Build.plural,
          namespace: build.metadata.namespace ?? "default",
          body: build,
        });
        return "created";
      } catch (err) {
        if (isAlreadyExists(err)) return "exists";
        throw err;
      }
    },
  };
}
