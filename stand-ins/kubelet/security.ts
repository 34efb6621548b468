// A container's effective securityContext (the container's fields over the pod's) as the kubelet
// hands it to the runtime, as a pure function: the user fields the image config is resolved against
// (image-config.ts), no_new_privs, the capability bounding set and the read-only root. Processes
// really switch user (the container init), so files they create belong to that uid, as in a real pod.
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { boundingSet } from "../../lib/container/capabilities.ts";
import type { UserSecurity } from "../../lib/container/image-config.ts";

export interface Security extends UserSecurity {
  noNewPrivs: boolean;
  /** The bounding set by capability name (lower case, no cap_ prefix); "all" when privileged. */
  capabilities: string[] | "all";
  readOnlyRootFilesystem: boolean;
}

export function resolveSecurity(pod: V1Pod, c: V1Container): Security {
  const podSc = pod.spec?.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const supplementalGroups = [
    ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : []),
    ...(podSc.supplementalGroups ?? []),
  ];
  const capabilities = boundingSet({
    drop: sc.capabilities?.drop ?? [],
    add: sc.capabilities?.add ?? [],
    privileged: sc.privileged === true,
  });
  return {
    runAsUser: sc.runAsUser ?? podSc.runAsUser,
    runAsGroup: sc.runAsGroup ?? podSc.runAsGroup,
    runAsNonRoot: sc.runAsNonRoot ?? podSc.runAsNonRoot ?? false,
    supplementalGroups,
    groupsPolicy: podSc.supplementalGroupsPolicy === "Strict" ? "Strict" : "Merge",
    noNewPrivs: !sc.privileged && sc.allowPrivilegeEscalation === false,
    capabilities,
    readOnlyRootFilesystem: sc.readOnlyRootFilesystem === true,
  };
}

/** Who the kubelet names in its messages about a container (format.Pod). */
export function who(pod: V1Pod, c: V1Container): string {
  return `(pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})", container: ${c.name})`;
}
