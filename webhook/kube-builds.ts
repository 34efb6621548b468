// Creates Builds through the Kubernetes API; an existing Build of the same name is a redelivery.
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { BuildInput } from "../api/build.ts";
import { GROUP, RESOURCES, VERSION } from "../api/group.ts";
import { isAlreadyExists, isTransient } from "../lib/kube-errors.ts";
import type { BuildSink } from "./deps.ts";
import { UnavailableError } from "./http-error.ts";

export function kubeBuildSink(kubeConfig: KubeConfig): BuildSink {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return {
    async create(build: BuildInput) {
      try {
        await api.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: build.metadata.namespace ?? "default",
          plural: RESOURCES.Build.plural,
          body: build,
        });
        return "created";
      } catch (err) {
        if (isAlreadyExists(err)) return "exists";
        if (isTransient(err))
          throw new UnavailableError("the Kubernetes API is unavailable; try again", { cause: err });
        throw err;
      }
    },
  };
}
