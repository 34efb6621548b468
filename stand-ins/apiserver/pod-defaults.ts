// What kube-apiserver fills into a new pod: defaults for fields clients usually leave out, the
// service-account token volume (the ServiceAccount admission plugin), and the initial status.
import type { KubeObject } from "./storage.ts";

type Obj = Record<string, unknown>;

export const SERVICE_ACCOUNT_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

function containerDefaults(c: Obj): void {
  const image = typeof c.image === "string" ? c.image : "";
  const tag = image.includes("@") ? "digest" : (/:([^/:]+)$/.exec(image)?.[1] ?? "latest");
  c.imagePullPolicy ??= tag === "latest" ? "Always" : "IfNotPresent";
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  c.resources ??= {};
  for (const p of (c.ports as Obj[] | undefined) ?? []) p.protocol ??= "TCP";
  for (const k of ["livenessProbe", "readinessProbe", "startupProbe"]) probeDefaults(c[k] as Obj | undefined);
  const lifecycle = c.lifecycle as Obj | undefined;
  httpGetDefaults((lifecycle?.postStart as Obj | undefined)?.httpGet as Obj | undefined);
  httpGetDefaults((lifecycle?.preStop as Obj | undefined)?.httpGet as Obj | undefined);
}

/** SetDefaults_HTTPGetAction: path "/", scheme HTTP. */
function httpGetDefaults(action: Obj | undefined): void {
  if (!action) return;
  action.path ??= "/";
  action.scheme ??= "HTTP";
}

/** SetDefaults_Probe: timeout 1 s, period 10 s, success 1, failure 3. */
function probeDefaults(probe: Obj | undefined): void {
  if (!probe) return;
  probe.timeoutSeconds ??= 1;
  probe.periodSeconds ??= 10;
  probe.successThreshold ??= 1;
  probe.failureThreshold ??= 3;
  httpGetDefaults(probe.httpGet as Obj | undefined);
}

export function podDefaults(pod: KubeObject): void {
  const spec = (pod.spec ?? {}) as Obj;
  spec.restartPolicy ??= "Always";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= "ClusterFirst";
  spec.securityContext ??= {};
  spec.schedulerName ??= "default-scheduler";
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= "PreemptLowerPriority";
  spec.serviceAccountName ??= (spec.serviceAccount as string | undefined) ?? "default";
  spec.serviceAccount ??= spec.serviceAccountName;
  for (const c of [...((spec.initContainers as Obj[]) ?? []), ...((spec.containers as Obj[]) ?? [])])
    containerDefaults(c);
}

/** Adds the projected token volume and its mounts, as the ServiceAccount admission plugin does. */
export function addServiceAccountVolume(pod: KubeObject, automountDefault: boolean, suffix: string): void {
  const spec = (pod.spec ?? {}) as Obj;
  const automount = (spec.automountServiceAccountToken as boolean | undefined) ?? automountDefault;
  if (!automount) return;
  const containers = [...((spec.initContainers as Obj[]) ?? []), ...((spec.containers as Obj[]) ?? [])];
  if (
    containers.some((c) =>
      ((c.volumeMounts as Obj[]) ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT),
    )
  )
    return;
  const name = `kube-api-access-${suffix}`;
  spec.volumes ??= [];
  const volumes = spec.volumes as Obj[];
  volumes.push({
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        {
          downwardAPI: {
            items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
          },
        },
      ],
    },
  });
  for (const c of containers) {
    c.volumeMounts ??= [];
    const mounts = c.volumeMounts as Obj[];
    mounts.push({ name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT });
  }
}

function hasResources(c: Obj, kind: "requests" | "limits"): boolean {
  const r = (c.resources as Obj | undefined)?.[kind] as Obj | undefined;
  return r !== undefined && Object.keys(r).length > 0;
}

export function qosClass(pod: KubeObject): string {
  const spec = (pod.spec ?? {}) as Obj;
  const containers = [...((spec.initContainers as Obj[]) ?? []), ...((spec.containers as Obj[]) ?? [])];
  if (containers.every((c) => !hasResources(c, "requests") && !hasResources(c, "limits")))
    return "BestEffort";
  const guaranteed = containers.every((c) => {
    const limits = ((c.resources as Obj | undefined)?.limits ?? {}) as Obj;
    const requests = ((c.resources as Obj | undefined)?.requests ?? limits) as Obj;
    return ["cpu", "memory"].every(
      (r) => limits[r] !== undefined && String(requests[r]) === String(limits[r]),
    );
  });
  return guaranteed ? "Guaranteed" : "Burstable";
}
