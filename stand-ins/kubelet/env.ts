// A container's environment as the kubelet computes it (pkg/kubelet/kubelet_pods.go
// makeEnvironmentVariables): envFrom first, then env with $(VAR) expansion over what came before
// and the service variables, then the service variables not already set. Pure: the Secrets and
// ConfigMaps it may read are fetched beforehand (see referencedObjects).
import type {
  V1Container,
  V1ObjectFieldSelector,
  V1Pod,
  V1ResourceFieldSelector,
} from "@kubernetes/client-node";
import { expand } from "../../lib/container/expand.ts";
import { parseQuantity } from "./quantity.ts";

/** Decoded data of a Secret or ConfigMap, or undefined when it does not exist. */
export type ObjectData = Readonly<Record<string, string>> | undefined;

export interface EnvInputs {
  secrets: ReadonlyMap<string, ObjectData>;
  configMaps: ReadonlyMap<string, ObjectData>;
  podIP: string;
  hostIP: string;
  nodeName: string;
  /** The API server as pods see it: KUBERNETES_SERVICE_HOST / _PORT. */
  apiServer: { host: string; port: number };
  /** What an unset limit means (node allocatable). */
  allocatable: { cpu: number; memory: number; "ephemeral-storage": number };
}

export type EnvResult =
  | { ok: true; env: [string, string][] }
  | { ok: false; reason: string; message: string };

/** Thrown for a reference the kubelet would refuse (CreateContainerConfigError). */
export class ConfigError extends Error {}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function serviceEnv(apiServer: { host: string; port: number }): [string, string][] {
  const { host, port } = apiServer;
  const prefix = `KUBERNETES_PORT_${port}_TCP`;
  return [
    ["KUBERNETES_SERVICE_HOST", host],
    ["KUBERNETES_SERVICE_PORT", String(port)],
    ["KUBERNETES_SERVICE_PORT_HTTPS", String(port)],
    ["KUBERNETES_PORT", `tcp://${host}:${port}`],
    [prefix, `tcp://${host}:${port}`],
    [`${prefix}_PROTO`, "tcp"],
    [`${prefix}_PORT`, String(port)],
    [`${prefix}_ADDR`, host],
  ];
}

/** Names of the Secrets and ConfigMaps a pod's env, envFrom and volumes refer to. */
export function referencedObjects(pod: V1Pod): { secrets: Set<string>; configMaps: Set<string> } {
  const secrets = new Set<string>();
  const configMaps = new Set<string>();
  const spec = pod.spec;
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    for (const from of c.envFrom ?? []) {
      if (from.secretRef?.name) secrets.add(from.secretRef.name);
      if (from.configMapRef?.name) configMaps.add(from.configMapRef.name);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
    }
  }
  for (const v of spec?.volumes ?? []) {
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    for (const s of v.projected?.sources ?? []) {
      if (s.secret?.name) secrets.add(s.secret.name);
      if (s.configMap?.name) configMaps.add(s.configMap.name);
    }
  }
  return { secrets, configMaps };
}

export function resolveEnv(pod: V1Pod, container: V1Container, inputs: EnvInputs): EnvResult {
  try {
    return { ok: true, env: computeEnv(pod, container, inputs) };
  } catch (error) {
    if (error instanceof ConfigError) {
      return { ok: false, reason: "CreateContainerConfigError", message: error.message };
    }
    throw error;
  }
}

function computeEnv(pod: V1Pod, container: V1Container, inputs: EnvInputs): [string, string][] {
  const namespace = pod.metadata?.namespace ?? "default";
  const env = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    let data: ObjectData;
    if (from.configMapRef) {
      data = object(inputs.configMaps, "configmap", from.configMapRef.name, from.configMapRef.optional);
    } else if (from.secretRef) {
      data = object(inputs.secrets, "secret", from.secretRef.name, from.secretRef.optional);
    }
    for (const [key, value] of Object.entries(data ?? {})) {
      // Keys that are not valid variable names are skipped (the kubelet records an event).
      if (ENV_NAME.test(prefix + key)) env.set(prefix + key, value);
    }
  }
  const service = new Map(serviceEnv(inputs.apiServer));
  const lookup = (name: string) => env.get(name) ?? service.get(name);
  for (const e of container.env ?? []) {
    const from = e.valueFrom;
    if (!from) {
      env.set(e.name, expand(e.value ?? "", lookup));
      continue;
    }
    let value: string | undefined;
    if (from.fieldRef) {
      value = fieldValue(pod, from.fieldRef, inputs);
    } else if (from.resourceFieldRef) {
      value = resourceValue(pod, container.name, from.resourceFieldRef, inputs);
    } else if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      value = key(inputs.configMaps, "configmap", "ConfigMap", namespace, ref.name, ref.key, ref.optional);
    } else if (from.secretKeyRef) {
      const ref = from.secretKeyRef;
      value = key(inputs.secrets, "secret", "Secret", namespace, ref.name, ref.key, ref.optional);
    }
    // An optional reference that is missing leaves the variable unset.
    if (value !== undefined) env.set(e.name, value);
  }
  for (const [name, value] of service) if (!env.has(name)) env.set(name, value);
  return [...env];
}

function object(
  store: ReadonlyMap<string, ObjectData>,
  kind: string,
  name: string | undefined,
  optional: boolean | undefined,
): ObjectData {
  const data = name === undefined ? undefined : store.get(name);
  if (data === undefined && !optional) throw new ConfigError(`${kind} "${name ?? ""}" not found`);
  return data;
}

function key(
  store: ReadonlyMap<string, ObjectData>,
  kind: string,
  Kind: string,
  namespace: string,
  name: string | undefined,
  k: string,
  optional: boolean | undefined,
): string | undefined {
  const data = object(store, kind, name, optional);
  if (data === undefined) return undefined;
  const value = data[k];
  if (value === undefined && !optional) {
    throw new ConfigError(`couldn't find key ${k} in ${Kind} ${namespace}/${name ?? ""}`);
  }
  return value;
}

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** A downward-API field of the pod; also used by downwardAPI volumes (which allow whole maps). */
export function fieldValue(
  pod: V1Pod,
  ref: V1ObjectFieldSelector,
  inputs: Pick<EnvInputs, "podIP" | "hostIP" | "nodeName">,
): string {
  const meta = pod.metadata ?? {};
  const path = ref.fieldPath;
  const sub = SUBSCRIPT.exec(path);
  if (sub) {
    const map = sub[1] === "labels" ? meta.labels : meta.annotations;
    return map?.[sub[2] ?? ""] ?? "";
  }
  switch (path) {
    case "metadata.name":
      return meta.name ?? "";
    case "metadata.namespace":
      return meta.namespace ?? "default";
    case "metadata.uid":
      return meta.uid ?? "";
    case "metadata.labels":
      return formatMap(meta.labels);
    case "metadata.annotations":
      return formatMap(meta.annotations);
    case "spec.nodeName":
      return pod.spec?.nodeName ?? inputs.nodeName;
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "default";
    case "status.podIP":
    case "status.podIPs":
      return inputs.podIP;
    case "status.hostIP":
    case "status.hostIPs":
      return inputs.hostIP;
    default:
      throw new ConfigError(`unsupported fieldRef fieldPath ${JSON.stringify(path)}`);
  }
}

// The downward API's format for whole maps: sorted `key="value"` lines with Go quoting.
function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map?.[k])}`)
    .join("\n");
}

export function resourceValue(
  pod: V1Pod,
  defaultContainer: string,
  ref: V1ResourceFieldSelector,
  inputs: Pick<EnvInputs, "allocatable">,
): string {
  const name = ref.containerName || defaultContainer;
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const container = all.find((c) => c.name === name);
  if (!container) throw new ConfigError(`resourceFieldRef: container ${JSON.stringify(name)} not found`);
  const [kind, resource] = ref.resource.split(".") as [string, string | undefined];
  if ((kind !== "limits" && kind !== "requests") || !resource || !(resource in inputs.allocatable)) {
    throw new ConfigError(`unsupported resourceFieldRef resource ${JSON.stringify(ref.resource)}`);
  }
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const allocatable = inputs.allocatable[resource as keyof EnvInputs["allocatable"]];
  // Unset limits mean node allocatable; unset requests default to the limit, else 0.
  const raw = kind === "limits" ? limits[resource] : (requests[resource] ?? limits[resource]);
  const amount = raw === undefined ? (kind === "limits" ? allocatable : 0) : parseQuantity(raw);
  const divisor = parseQuantity(ref.divisor ?? "1") || 1;
  return String(Math.ceil(amount / divisor - 1e-9));
}
