// The pod rules kube-apiserver enforces beyond the OpenAPI shape, limited to what Kiln can trip on:
// unique container and volume names, mounts of declared volumes, and spec immutability on update.
import { isDeepStrictEqual } from "node:util";
import { dns1123LabelErrors } from "./builtin-validation.ts";
import type { StatusCause } from "./errors.ts";
import type { KubeObject } from "./storage.ts";

interface Container {
  name?: string;
  image?: string;
  volumeMounts?: { name?: string; mountPath?: string }[];
  [key: string]: unknown;
}

interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: { name?: string }[];
  restartPolicy?: string;
  activeDeadlineSeconds?: number;
  tolerations?: unknown[];
  terminationGracePeriodSeconds?: number;
  [key: string]: unknown;
}

function required(field: string): StatusCause {
  return { reason: "FieldValueRequired", message: "Required value", field };
}

function duplicate(field: string, value: string): StatusCause {
  return { reason: "FieldValueDuplicate", message: `Duplicate value: ${JSON.stringify(value)}`, field };
}

export function podCauses(pod: KubeObject): StatusCause[] {
  const spec = (pod.spec ?? {}) as PodSpec;
  const causes: StatusCause[] = [];
  if (!pod.spec) return [required("spec")];
  if (!spec.containers || spec.containers.length === 0) causes.push(required("spec.containers"));

  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((v, i) => {
    const field = `spec.volumes[${i}].name`;
    if (!v.name) causes.push(required(field));
    else if (volumes.has(v.name)) causes.push(duplicate(field, v.name));
    else {
      for (const e of dns1123LabelErrors(v.name))
        causes.push({
          reason: "FieldValueInvalid",
          message: `Invalid value: ${JSON.stringify(v.name)}: ${e}`,
          field,
        });
      volumes.add(v.name);
    }
  });

  const names = new Set<string>();
  const check = (list: Container[] | undefined, path: string) => {
    (list ?? []).forEach((c, i) => {
      const field = `${path}[${i}]`;
      if (!c.name) causes.push(required(`${field}.name`));
      else if (names.has(c.name)) causes.push(duplicate(`${field}.name`, c.name));
      else {
        for (const e of dns1123LabelErrors(c.name))
          causes.push({
            reason: "FieldValueInvalid",
            message: `Invalid value: ${JSON.stringify(c.name)}: ${e}`,
            field: `${field}.name`,
          });
        names.add(c.name);
      }
      if (!c.image) causes.push(required(`${field}.image`));
      const mountPaths = new Set<string>();
      (c.volumeMounts ?? []).forEach((m, j) => {
        const mField = `${field}.volumeMounts[${j}]`;
        if (!m.name) causes.push(required(`${mField}.name`));
        else if (!volumes.has(m.name))
          causes.push({
            reason: "FieldValueNotFound",
            message: `Not found: ${JSON.stringify(m.name)}`,
            field: `${mField}.name`,
          });
        if (!m.mountPath) causes.push(required(`${mField}.mountPath`));
        else if (mountPaths.has(m.mountPath)) causes.push(duplicate(`${mField}.mountPath`, m.mountPath));
        else mountPaths.add(m.mountPath);
      });
    });
  };
  check(spec.initContainers, "spec.initContainers");
  check(spec.containers, "spec.containers");
  return causes;
}

const MUTABLE_MESSAGE =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** A pod's spec may change only in images, activeDeadlineSeconds and added tolerations. */
export function podUpdateCauses(pod: KubeObject, old: KubeObject): StatusCause[] {
  const spec = structuredClone((pod.spec ?? {}) as PodSpec);
  const before = (old.spec ?? {}) as PodSpec;
  const causes: StatusCause[] = [];
  // Blank out what may change, then everything else must be equal.
  const images = (list: Container[] | undefined, from: Container[] | undefined) =>
    list?.forEach((c, i) => {
      const o = from?.[i];
      if (o) c.image = o.image;
    });
  images(spec.containers, before.containers);
  images(spec.initContainers, before.initContainers);
  if (before.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds === undefined)
    causes.push({
      reason: "FieldValueForbidden",
      message: "Forbidden: must not be removed",
      field: "spec.activeDeadlineSeconds",
    });
  spec.activeDeadlineSeconds = before.activeDeadlineSeconds;
  const oldTolerations = before.tolerations ?? [];
  const newTolerations = spec.tolerations ?? [];
  const keepsOld = oldTolerations.every((t) => newTolerations.some((n) => isDeepStrictEqual(n, t)));
  if (keepsOld) spec.tolerations = before.tolerations;
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(spec)), JSON.parse(JSON.stringify(before)))) {
    causes.push({ reason: "FieldValueForbidden", message: `Forbidden: ${MUTABLE_MESSAGE}`, field: "spec" });
  }
  return causes;
}

interface ContainerStatus {
  name: string;
  state?: { terminated?: { exitCode?: number } };
}

/**
 * kube's ValidateContainerStateTransition: a container that terminated and will not be restarted
 * (restartPolicy Never, or OnFailure after exit code 0) may not go back to waiting or running.
 */
export function podStatusUpdateCauses(pod: KubeObject, old: KubeObject): StatusCause[] {
  const spec = (old.spec ?? {}) as PodSpec & { initContainers?: (Container & { restartPolicy?: string })[] };
  const causes: StatusCause[] = [];
  const check = (kind: "containerStatuses" | "initContainerStatuses", policy: (name: string) => string) => {
    const before =
      ((old.status as Record<string, unknown> | undefined)?.[kind] as ContainerStatus[] | undefined) ?? [];
    const after =
      ((pod.status as Record<string, unknown> | undefined)?.[kind] as ContainerStatus[] | undefined) ?? [];
    after.forEach((s, i) => {
      const was = before.find((b) => b.name === s.name)?.state?.terminated;
      if (!was || s.state?.terminated) return;
      const p = policy(s.name);
      if (p === "Never" || (p === "OnFailure" && was.exitCode === 0)) {
        causes.push({
          reason: "FieldValueForbidden",
          message: "Forbidden: may not be transitioned to non-terminated state",
          field: `status.${kind}[${i}].state`,
        });
      }
    });
  };
  const podPolicy = spec.restartPolicy ?? "Always";
  check("containerStatuses", () => podPolicy);
  // Sidecars (init containers with restartPolicy Always) may always restart.
  check("initContainerStatuses", (name) => {
    const c = spec.initContainers?.find((x) => x.name === name);
    return c?.restartPolicy === "Always" ? "Always" : podPolicy;
  });
  return causes;
}
