// Creates a Repository object in a (test) cluster, as an operator's `kubectl apply` would. Shared by the
// integration and end-to-end tests and the benches, which otherwise each spelled out the custom-object call.
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { API_VERSION, GROUP, RESOURCES, VERSION } from "../../api/group.ts";
import type { RepositoryInput } from "../../api/repository.ts";

export async function createRepository(
  kubeConfig: KubeConfig,
  name: string,
  spec: RepositoryInput["spec"],
  namespace = "default",
): Promise<void> {
  await kubeConfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: RESOURCES.Repository.plural,
    body: { apiVersion: API_VERSION, kind: "Repository", metadata: { name, namespace }, spec },
  });
}
