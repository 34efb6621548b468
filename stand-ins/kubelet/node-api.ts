// The node's other API calls: the Secrets and ConfigMaps a pod refers to, service-account tokens
// (TokenRequest), the Node object, Events, and the kubelet's own credentials.
import * as os from "node:os";
import { KubeConfig, type V1Pod } from "@kubernetes/client-node";
import type { Logger } from "../../lib/log.ts";
import { type Api, createApi, HttpError } from "./client.ts";
import { referencedObjects } from "./env.ts";
import { nodeRoleObjects } from "./node-role.ts";
import type { WorkerDeps } from "./pod-worker.ts";
import type { ObjectBytes } from "./volumes.ts";

export type RawPod = V1Pod & { metadata: { name: string; namespace: string; uid: string } };

export async function fetchObjects(
  api: Api,
  pod: V1Pod,
): Promise<{ secrets: Map<string, ObjectBytes>; configMaps: Map<string, ObjectBytes> }> {
  const namespace = pod.metadata?.namespace ?? "default";
  const refs = referencedObjects(pod);
  const secrets = new Map<string, ObjectBytes>();
  const configMaps = new Map<string, ObjectBytes>();
  await Promise.all([
    ...[...refs.secrets].map(async (name) => {
      const s = await api.get<{ data?: Record<string, string> }>(
        `/api/v1/namespaces/${namespace}/secrets/${name}`,
      );
      secrets.set(
        name,
        s && Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64")])),
      );
    }),
    ...[...refs.configMaps].map(async (name) => {
      const c = await api.get<{ data?: Record<string, string>; binaryData?: Record<string, string> }>(
        `/api/v1/namespaces/${namespace}/configmaps/${name}`,
      );
      configMaps.set(
        name,
        c && {
          ...Object.fromEntries(Object.entries(c.data ?? {}).map(([k, v]) => [k, Buffer.from(v)])),
          ...Object.fromEntries(
            Object.entries(c.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64")]),
          ),
        },
      );
    }),
  ]);
  return { secrets, configMaps };
}

export async function requestToken(
  api: Api,
  pod: V1Pod,
  request: { audience?: string; expirationSeconds: number },
): Promise<string> {
  const namespace = pod.metadata?.namespace ?? "default";
  const account = pod.spec?.serviceAccountName ?? "default";
  const response = await api.request<{ status?: { token?: string } }>(
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`,
    {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: {
        ...(request.audience ? { audiences: [request.audience] } : {}),
        expirationSeconds: request.expirationSeconds,
        boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata?.name, uid: pod.metadata?.uid },
      },
    },
  );
  const token = response.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${account} returned no token`);
  return token;
}

/** Registers the Node when the server serves nodes (optional: the test server may not). */
/** The Node's well-known labels (what a nodeSelector can match on this node). */
export function nodeLabels(nodeName: string): Record<string, string> {
  return { "kubernetes.io/hostname": nodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": os.arch() };
}

export async function registerNode(api: Api, nodeName: string, deps: WorkerDeps, log: Logger): Promise<void> {
  const now = new Date().toISOString();
  const capacity = {
    cpu: String(deps.allocatable.cpu),
    memory: `${Math.floor(deps.allocatable.memory / 1024)}Ki`,
    pods: "110",
  };
  try {
    await api.request("POST", "/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: nodeName,
        labels: nodeLabels(nodeName),
      },
      status: {
        addresses: [
          { type: "InternalIP", address: deps.hostIP },
          { type: "Hostname", address: nodeName },
        ],
        capacity,
        allocatable: capacity,
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "KubeletReady",
            message: "process kubelet is posting ready status",
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
        nodeInfo: {
          kubeletVersion: "kiln-process-kubelet",
          operatingSystem: "linux",
          architecture: os.arch(),
        },
      },
    });
  } catch (error) {
    if (error instanceof HttpError && (error.code === 404 || error.code === 405)) {
      log.info("the API server serves no nodes; running without a Node object");
    } else if (!(error instanceof HttpError && error.code === 409)) throw error;
  }
}

/** A kubeconfig for the same cluster with a ServiceAccount token of the kubelet's own (and its RBAC). */
export async function nodeCredentials(admin: KubeConfig, name: string): Promise<KubeConfig> {
  const api = createApi(admin);
  const namespace = "kube-system";
  const exists = (error: unknown) => {
    if (!(error instanceof HttpError && error.code === 409)) throw error;
  };
  await api
    .request("POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name },
    })
    .catch(exists);
  const { role, binding } = nodeRoleObjects(namespace, name);
  await api.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", role).catch(exists);
  await api.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding).catch(exists);
  const response = await api.request<{ status?: { token?: string } }>(
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 7 * 24 * 3600 },
    },
  );
  const token = response.status?.token;
  if (!token) throw new Error("TokenRequest for the kubelet's ServiceAccount returned no token");
  const cluster = admin.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token }],
    contexts: [{ name, cluster: cluster.name, user: name }],
    currentContext: name,
  });
  return kc;
}
