// The build pod as a pure function of (Build, Repository, pipeline, config): DESIGN.md §3.
//
// Security: every container runs with no privilege escalation and the RuntimeDefault seccomp profile.
// Kiln's own containers (fetch, agent) also drop ALL capabilities and run as a fixed non-root user with a
// read-only root filesystem — Pod Security "restricted". The user's build and service containers are NOT
// forced to runAsNonRoot and keep the runtime's default capabilities minus NET_RAW (Pod Security
// "baseline"): most CI images (node, python, postgres …) start as root and their steps expect to
// `apt-get install` or chown, which needs CHOWN/SETUID/DAC_OVERRIDE; forcing more makes ordinary pipelines
// fail in confusing ways. A pipeline (or service) that names a non-root `user:` runs as it with no
// capabilities and runAsNonRoot; when the build and every service do, the whole pod meets "restricted".
// The pod's fsGroup keeps the shared emptyDirs writable for every container.
import type { V1Container, V1Pod, V1SecurityContext, V1Volume } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";
import { CACHE_MOUNT_DIR, CACHE_VOLUME, cacheMounts, DEFAULT_BRANCH } from "../../api/cache.ts";
import { parseDuration } from "../../api/duration.ts";
import { API_VERSION, LABELS } from "../../api/group.ts";
import {
  agentContainerArgs,
  agentEnv,
  buildContainerEnv,
  CONTAINERS,
  fetchContainerArgs,
  GIT_TOKEN_DIR,
  runnerCommand,
  SECRETS_DIR,
  STORE_TOKEN_DIR,
  TERMINATION_MESSAGE_PATH,
  userSecurity,
  VOLUMES,
  volumeMounts,
  WORKSPACE_DIR,
} from "../../api/pod-protocol.ts";
import { cloneURL, type Repository } from "../../api/repository.ts";
import { STORE_AUDIENCE } from "../../api/store-protocol.ts";
import type { ControllerConfig, Resources } from "../config.ts";
import { labelValue, podName } from "./names.ts";
import type {
  PipelineResources,
  PipelineSecret,
  PipelineService,
  PipelineUser,
  PodPipeline,
} from "./pipeline.ts";

export type BuildPodConfig = { image: string } & Pick<
  ControllerConfig,
  | "imagePullPolicy"
  | "agentServiceAccount"
  | "kilnUser"
  | "buildResources"
  | "serviceResources"
  | "kilnResources"
  | "buildScheduling"
  | "storeURL"
>;

const GIT_TOKEN_VOLUME = "git-token";
const AGENT_TOKEN_VOLUME = "agent-token";
const STORE_TOKEN_VOLUME = "store-token";
const SECRETS_VOLUME = "secrets";
/** Where client-node's in-cluster config looks for the token, CA and namespace. */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const MANAGED_BY = "app.kubernetes.io/managed-by";

/** Whether the build may use the repository's Secrets (never for pull requests from forks). */
export function mayUseSecrets(build: Build): boolean {
  return build.spec.trigger.pullRequest?.fork !== true;
}

/** The build's timeout in whole seconds. */
export function timeoutSeconds(build: Build): number {
  return Math.max(1, Math.ceil((parseDuration(build.spec.timeout) ?? 3_600_000) / 1000));
}

// kiln fetch runs only Kiln's code; a local (file://) clone URL, as in a sandbox, is another user's too.
const SAFE_ANY = { name: "GIT_CONFIG_PARAMETERS", value: "'safe.directory'='*'" };

/** Whether every user container runs as a non-root user the pipeline names: the pod is then "restricted". */
export function runsAsNonRoot(pipeline: PodPipeline): boolean {
  const nonRoot = (u: PipelineUser | undefined) => u !== undefined && u.uid !== 0;
  return nonRoot(pipeline.user) && pipeline.services.every((s) => nonRoot(s.user));
}

function kilnSecurity(config: BuildPodConfig): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    runAsNonRoot: true,
    runAsUser: config.kilnUser,
    runAsGroup: config.kilnUser,
    readOnlyRootFilesystem: true,
  };
}

/** Kiln's defaults with what the pipeline asks for over them, key by key. */
function resources(defaults: Resources, own?: PipelineResources): V1Container["resources"] {
  const merged: Resources = structuredClone(defaults);
  if (own?.requests) merged.requests = { ...merged.requests, ...own.requests };
  if (own?.limits) merged.limits = { ...merged.limits, ...own.limits };
  return merged as V1Container["resources"];
}

/**
 * The agent's copy of the secrets (to mask them): one projected volume, a source per Secret, an item per
 * `.kiln.yaml` entry at the path of its variable. Optional, so that a missing Secret or key does not hold
 * the whole pod in ContainerCreating: the build container's secretKeyRef then fails it with the
 * kubelet's CreateContainerConfigError, which the controller turns into a Failed build naming the entry
 * (pod-status.ts); the agent refuses to run steps whose secrets it cannot read.
 */
function secretsVolume(secrets: PipelineSecret[]): V1Volume {
  const byName = new Map<string, { key: string; path: string }[]>();
  for (const s of secrets) {
    const items = byName.get(s.secretRef.name) ?? [];
    items.push({ key: s.secretRef.key, path: s.env });
    byName.set(s.secretRef.name, items);
  }
  return {
    name: SECRETS_VOLUME,
    projected: {
      defaultMode: 0o440,
      sources: [...byName].map(([name, items]) => ({ secret: { name, items, optional: true } })),
    },
  };
}

function serviceContainer(service: PipelineService, config: BuildPodConfig): V1Container {
  const ready = service.ready;
  const check =
    ready &&
    ("command" in ready ? { exec: { command: ready.command } } : { tcpSocket: { port: ready.port } });
  const container: V1Container = {
    name: `service-${service.name}`,
    image: service.image,
    // A native sidecar: started before the build container, stopped after it, never holding the pod up.
    restartPolicy: "Always",
    env: Object.entries(service.env ?? {}).map(([name, value]) => ({ name, value })),
    securityContext: userSecurity(service.user),
    resources: resources(config.serviceResources, service.resources),
  };
  if (service.command) container.command = service.command;
  if (service.args) container.args = service.args;
  if (service.ports?.length)
    container.ports = service.ports.map((p) => ({ containerPort: p, protocol: "TCP" }));
  if (check) {
    // The startup probe gates the containers after it (hence the first step); readiness reports health after.
    const failureThreshold = Math.max(1, Math.ceil(ready!.timeoutMs / 1000));
    container.startupProbe = { ...check, periodSeconds: 1, failureThreshold, timeoutSeconds: 2 };
    container.readinessProbe = { ...check, periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 2 };
  }
  return container;
}

export function buildPod(
  build: Build,
  repository: Repository,
  pipeline: PodPipeline,
  config: BuildPodConfig,
): V1Pod {
  const name = build.metadata.name!;
  const namespace = build.metadata.namespace!;
  const withToken = repository.spec.tokenSecretRef !== undefined && mayUseSecrets(build);
  const labels: Record<string, string> = {
    [LABELS.build]: labelValue(name),
    [LABELS.repository]: labelValue(repository.metadata.name!),
    [LABELS.commit]: build.spec.revision.sha.slice(0, 7),
    [MANAGED_BY]: "kiln",
  };
  if (build.spec.revision.branch) labels[LABELS.branch] = labelValue(build.spec.revision.branch);

  const volumes: V1Volume[] = [
    { name: VOLUMES.workspace, emptyDir: {} },
    { name: VOLUMES.kiln, emptyDir: {} },
    {
      // What the kubelet would automount, but only the agent mounts it (the pod automounts nothing).
      name: AGENT_TOKEN_VOLUME,
      projected: {
        defaultMode: 0o440,
        sources: [
          { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
          { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
          {
            downwardAPI: {
              items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
            },
          },
        ],
      },
    },
  ];
  const fetch: V1Container = {
    name: CONTAINERS.fetch,
    image: config.image,
    imagePullPolicy: config.imagePullPolicy,
    command: ["kiln"],
    args: fetchContainerArgs({ cloneURL: cloneURL(repository), sha: build.spec.revision.sha, withToken }),
    env: [SAFE_ANY],
    volumeMounts: volumeMounts(),
    securityContext: kilnSecurity(config),
    resources: resources(config.kilnResources),
    terminationMessagePath: TERMINATION_MESSAGE_PATH,
    terminationMessagePolicy: "FallbackToLogsOnError",
  };
  if (withToken) {
    const ref = repository.spec.tokenSecretRef!;
    volumes.push({
      name: GIT_TOKEN_VOLUME,
      secret: { secretName: ref.name, items: [{ key: ref.key, path: "token" }], defaultMode: 0o440 },
    });
    // Only the fetch container sees the token: it is mounted nowhere else.
    fetch.volumeMounts!.push({ name: GIT_TOKEN_VOLUME, mountPath: GIT_TOKEN_DIR, readOnly: true });
  }

  // Never for forks; never a plain value in the pod spec: the kubelet resolves the reference.
  const secrets = mayUseSecrets(build) ? (pipeline.secrets ?? []) : [];
  const buildContainer: V1Container = {
    name: CONTAINERS.build,
    image: pipeline.image,
    command: runnerCommand(),
    workingDir: WORKSPACE_DIR,
    env: [
      ...buildContainerEnv(),
      ...secrets.map((s) => ({ name: s.env, valueFrom: { secretKeyRef: { ...s.secretRef } } })),
    ],
    volumeMounts: volumeMounts(),
    securityContext: userSecurity(pipeline.user),
    resources: resources(config.buildResources, pipeline.resources),
  };
  const agent: V1Container = {
    name: CONTAINERS.agent,
    image: config.image,
    imagePullPolicy: config.imagePullPolicy,
    command: ["kiln"],
    args: agentContainerArgs(),
    env: agentEnv({
      buildName: name,
      manifest: repository.spec.manifest,
      branch: build.spec.revision.branch,
      pauseOnFailure: build.spec.pauseOnFailure,
      fork: !mayUseSecrets(build),
      ...(config.storeURL ? { storeURL: config.storeURL } : {}),
      repository: repository.metadata.name!,
      defaultBranch: repository.spec.defaultBranch ?? DEFAULT_BRANCH,
    }),
    volumeMounts: [
      ...volumeMounts(),
      { name: AGENT_TOKEN_VOLUME, mountPath: SERVICE_ACCOUNT_DIR, readOnly: true },
    ],
    securityContext: kilnSecurity(config),
    resources: resources(config.kilnResources),
    terminationMessagePath: TERMINATION_MESSAGE_PATH,
    terminationMessagePolicy: "FallbackToLogsOnError",
  };

  if (config.storeURL) {
    // The store's token: bound to this pod (the store checks the pod still exists and is this Build's),
    // for the store's audience only, rotated by the kubelet; the agent's alone, like its API token.
    volumes.push({
      name: STORE_TOKEN_VOLUME,
      projected: {
        defaultMode: 0o440,
        sources: [
          { serviceAccountToken: { path: "token", audience: STORE_AUDIENCE, expirationSeconds: 3600 } },
        ],
      },
    });
    agent.volumeMounts!.push({ name: STORE_TOKEN_VOLUME, mountPath: STORE_TOKEN_DIR, readOnly: true });
    // Cache paths outside the workspace: one emptyDir, a subPath of it at each path in the build
    // container, the whole of it in the agent's (which restores and saves them there).
    const mounts = cacheMounts(pipeline.cachePaths ?? []);
    if (mounts.length > 0) {
      volumes.push({ name: CACHE_VOLUME, emptyDir: {} });
      for (const m of mounts) buildContainer.volumeMounts!.push({ name: CACHE_VOLUME, ...m });
      agent.volumeMounts!.push({ name: CACHE_VOLUME, mountPath: CACHE_MOUNT_DIR });
    }
  }

  if (secrets.length > 0) {
    volumes.push(secretsVolume(secrets));
    agent.volumeMounts!.push({ name: SECRETS_VOLUME, mountPath: SECRETS_DIR, readOnly: true });
  }

  const placement = repository.spec.buildPod ?? {};
  const scheduling = config.buildScheduling;
  const nodeSelector = { ...scheduling.nodeSelector, ...placement.nodeSelector };
  const tolerations = [...scheduling.tolerations, ...(placement.tolerations ?? [])];
  const pullSecrets = [...new Set([...scheduling.imagePullSecrets, ...(placement.imagePullSecrets ?? [])])];

  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podName(name),
      namespace,
      labels,
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: "Build",
          name,
          uid: build.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      restartPolicy: "Never",
      activeDeadlineSeconds: timeoutSeconds(build),
      serviceAccountName: config.agentServiceAccount,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 30,
      securityContext: {
        seccompProfile: { type: "RuntimeDefault" },
        fsGroup: config.kilnUser,
        fsGroupChangePolicy: "OnRootMismatch",
      },
      initContainers: [fetch, ...pipeline.services.map((s) => serviceContainer(s, config))],
      containers: [buildContainer, agent],
      volumes,
      ...(Object.keys(nodeSelector).length > 0 && { nodeSelector }),
      ...(tolerations.length > 0 && { tolerations }),
      ...(pullSecrets.length > 0 && { imagePullSecrets: pullSecrets.map((n) => ({ name: n })) }),
    },
  };
}
