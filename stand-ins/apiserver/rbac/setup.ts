// RBAC for the test server, assembled: the rule resolver and authorizer, the bootstrap policy, the
// clusterrole-aggregation controller, escalation prevention on RBAC writes and the
// OwnerReferencesPermissionEnforcement admission plugin.
import type { Logger } from "../../../lib/log.ts";
import type { Objects } from "../objects.ts";
import { ClusterRoleAggregation } from "./aggregation.ts";
import { Authorizer } from "./authorizer.ts";
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from "./bootstrap-policy.ts";
import { rbacEscalationCheck } from "./escalation.ts";
import { ownerReferencesPermissionEnforcement } from "./owner-references.ts";
import { RuleResolver } from "./resolver.ts";
import { RBAC_GROUP } from "./types.ts";

export interface RBAC {
  authorizer: Authorizer;
  close(): void;
}

export function startRBAC(objects: Objects, log: Logger): RBAC {
  const resolver = new RuleResolver(objects.store);
  const authorizer = new Authorizer(resolver);
  objects.addWriteCheck("storage", rbacEscalationCheck(authorizer));
  objects.addWriteCheck("admission", ownerReferencesPermissionEnforcement(authorizer));
  const roles = objects.registry.find(RBAC_GROUP, "v1", "clusterroles")!;
  const bindings = objects.registry.find(RBAC_GROUP, "v1", "clusterrolebindings")!;
  for (const r of bootstrapClusterRoles()) objects.create(roles, undefined, r, { internal: true });
  for (const b of bootstrapClusterRoleBindings()) objects.create(bindings, undefined, b, { internal: true });
  const aggregation = new ClusterRoleAggregation(objects, log);
  aggregation.start();
  return {
    authorizer,
    close() {
      aggregation.stop();
      resolver.close();
    },
  };
}
