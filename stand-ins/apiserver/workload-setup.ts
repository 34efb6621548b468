// Wires the workload kinds into the server: their resource types, the DefaultIngressClass admission,
// Service IP and node port allocation, the scale and eviction subresources, and the ReplicaSet,
// Deployment and disruption controllers.
import type { Logger } from "../../lib/log.ts";
import { DeploymentController } from "./controllers/deployments.ts";
import { DisruptionController } from "./controllers/disruption.ts";
import { ReplicaSetController } from "./controllers/replicasets.ts";
import { evictionHandler } from "./eviction.ts";
import type { SubresourceHandler } from "./handlers.ts";
import type { Objects } from "./objects.ts";
import { scaleHandler } from "./scale.ts";
import { ServiceAllocations, serviceAllocation } from "./service-ips.ts";
import { defaultIngressClass, workloadTypes } from "./workload-types.ts";

export interface Workloads {
  /** Subresource handlers keyed like handleResource's (`<collection>/<subresource>`). */
  subresources: Record<string, SubresourceHandler>;
  stop(): void;
}

export function startWorkloads(objects: Objects, log?: Logger): Workloads {
  for (const t of workloadTypes()) objects.registry.add(t);
  objects.addAdmission(defaultIngressClass);
  const allocations = new ServiceAllocations(objects.store);
  allocations.start();
  objects.addAdmission(serviceAllocation(allocations, objects.env.random));
  const controllers = [
    new ReplicaSetController(objects, log),
    new DeploymentController(objects, log),
    new DisruptionController(objects, log),
  ];
  for (const c of controllers) c.start();
  const scale = scaleHandler(objects);
  return {
    subresources: {
      "apps/deployments/scale": scale,
      "apps/replicasets/scale": scale,
      "/pods/eviction": evictionHandler(objects),
    },
    stop() {
      for (const c of controllers) c.stop();
      allocations.stop();
    },
  };
}
