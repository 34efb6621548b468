// Creates Builds through the Kubernetes API; an existing Build of the same name is a redelivery.
import type { BuildInput } from "../api/build.ts";
import { UnavailableError } from "../lib/http-error.ts";
import type { KubeClient } from "../lib/kube.ts";
import { isTransient } from "../lib/kube-errors.ts";
import { builds } from "../lib/kube-objects.ts";
import type { BuildSink } from "./deps.ts";

export function kubeBuildSink(client: KubeClient): BuildSink {
  const api = builds(client);
  return {
    async create(build: BuildInput) {
      try {
        return await api.create(build.metadata.namespace ?? "default", build);
      } catch (err) {
        if (isTransient(err))
          throw new UnavailableError("the Kubernetes API is unavailable; try again", { cause: err });
        throw err;
      }
    },
  };
}
