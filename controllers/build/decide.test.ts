// decide() as a table: a row per transition. The pod's rows first (what the pod says; revivals off, they
// have rows of their own), then the Build's own rules, superseding, revivals and starting step by step.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import {
  SHA,
  sampleBuild,
  sampleConfig,
  samplePipeline,
  sampleRepository,
} from "../../test/fixtures/build.ts";
import { decide } from "./decide.ts";
import type { Action, DecideInput, ManifestRead, PodRefusal } from "./decision.ts";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const config = { ...sampleConfig, unschedulableTimeoutMs: 300_000, startTimeoutMs: 600_000, maxRevivals: 2 };
const at = (s: number) => T0 + s * 1000;
const iso = (s: number) => new Date(at(s)).toISOString();

const pending = { phase: "Pending", podName: "b-pod", startTime: iso(0) } as const;
const running = { ...pending, phase: "Running" } as const;
const OWNER = [
  { apiVersion: "kiln.dev/v1alpha1", kind: "Build", name: "b", uid: "build-uid", controller: true },
];

/** The Build's own pod (owned by it), with this status. */
function pod(status: V1Pod["status"], meta: Partial<V1Pod["metadata"]> = {}): V1Pod {
  return {
    metadata: {
      name: "b-pod",
      namespace: "ci",
      uid: "pod-uid",
      creationTimestamp: iso(0) as unknown as Date,
      ownerReferences: OWNER,
      ...meta,
    },
    status,
  };
}
const term = (name: string, exitCode: number, reason?: string, message?: string) => ({
  name,
  ready: false,
  restartCount: 0,
  image: "x",
  imageID: "",
  state: { terminated: { exitCode, reason, message } },
});
const wait = (name: string, reason: string, message?: string) => ({
  name,
  ready: false,
  restartCount: 0,
  image: "x",
  imageID: "",
  state: { waiting: { reason, message } },
});
const secretEnv = (name: string, secret: string, key: string) => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});
/** A pod whose build container has three .kiln.yaml secrets (two of Secret npm), its manifest ci/kiln.yaml. */
const withSecrets = (status: V1Pod["status"]): V1Pod => ({
  ...pod(status),
  spec: {
    containers: [
      {
        name: "build",
        env: [
          { name: "GIT_CONFIG_PARAMETERS", value: "x" },
          secretEnv("NPM_TOKEN", "npm", "token"),
          secretEnv("DEPLOY_KEY", "deploy", "key"),
          secretEnv("NPM_USER", "npm", "user"),
        ],
      },
      { name: "agent", env: [{ name: "KILN_MANIFEST", value: "ci/kiln.yaml" }] },
    ],
  },
});
const run = (name: string) => ({
  name,
  ready: true,
  restartCount: 0,
  image: "x",
  imageID: "",
  state: { running: {} },
});

interface Row {
  name: string;
  build: Build;
  pod?: V1Pod;
  now?: number;
  /** The repository's other unfinished builds (the build itself is always among the siblings). */
  others?: Build[];
  /** null: no such Repository. */
  repository?: Repository | null;
  manifest?: ManifestRead;
  refused?: PodRefusal;
  /** Names of builds holding a slot (default: those with a podName). */
  holding?: string[];
  maxRevivals?: number;
  phase: string | undefined;
  reason?: string;
  message?: RegExp;
  action?: Action["kind"];
  requeueAfterMs?: number;
  retry?: boolean;
  terminal?: boolean;
  check?: (d: ReturnType<typeof decide>) => void;
}

const unschedulable = pod({
  phase: "Pending",
  conditions: [
    {
      type: "PodScheduled",
      status: "False",
      reason: "Unschedulable",
      message: "0/3 nodes",
      lastTransitionTime: iso(0) as unknown as Date,
    },
  ],
});

const steps = (...s: NonNullable<Build["status"]>["steps"] & object) => s;

const podRows: Row[] = [
  {
    name: "pod created, not scheduled yet: Pending",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Pending" }),
    now: at(1),
    phase: "Pending",
    reason: "PodPending",
  },
  {
    name: "unschedulable for a while: still Pending",
    build: sampleBuild({ status: pending }),
    pod: unschedulable,
    now: at(60),
    phase: "Pending",
    reason: "Unschedulable",
  },
  {
    name: "unschedulable past the limit: Errored, pod deleted",
    build: sampleBuild({ status: pending }),
    pod: unschedulable,
    now: at(301),
    phase: "Errored",
    reason: "Unschedulable",
    message: /0\/3 nodes/,
    action: "deletePod",
  },
  {
    name: "image cannot be pulled for a while: Pending",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Pending", containerStatuses: [wait("build", "ImagePullBackOff", "not found")] }),
    now: at(30),
    phase: "Pending",
    reason: "ImagePullBackOff",
  },
  {
    name: "image pull failing past the start limit: Errored",
    build: sampleBuild({ status: pending }),
    pod: pod({
      phase: "Pending",
      containerStatuses: [wait("build", "ImagePullBackOff", "nodejs:99 not found")],
    }),
    now: at(601),
    phase: "Errored",
    reason: "ImagePullFailed",
    message: /nodejs:99/,
    action: "deletePod",
  },
  {
    name: "invalid image name: Errored at once",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Pending", containerStatuses: [wait("build", "InvalidImageName", "bad ref")] }),
    now: at(1),
    phase: "Errored",
    reason: "InvalidImageName",
    action: "deletePod",
  },
  {
    name: "containers never started: Errored after the start limit",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Pending", initContainerStatuses: [wait("fetch", "PodInitializing")] }),
    now: at(601),
    phase: "Errored",
    reason: "StartTimeout",
    action: "deletePod",
  },
  {
    name: "pod running: Running with the current step",
    build: sampleBuild({ status: { ...pending, steps: steps({ name: "install", phase: "Running" }) } }),
    pod: pod({ phase: "Running", containerStatuses: [run("build"), run("agent")] }),
    now: at(5),
    phase: "Running",
    message: /running step "install"/,
  },
  {
    name: "a paused step: Paused with the step's message",
    build: sampleBuild({
      status: {
        ...running,
        steps: steps({
          name: "test",
          phase: "Paused",
          message: "Debug with: kubectl exec -it b-pod -c build -- sh",
        }),
      },
    }),
    pod: pod({ phase: "Running" }),
    now: at(5),
    phase: "Paused",
    message: /kubectl exec -it b-pod -c build/,
  },
  {
    name: "resumed after a pause: Running again",
    build: sampleBuild({
      status: { ...running, phase: "Paused", steps: steps({ name: "test", phase: "Running" }) },
    }),
    pod: pod({ phase: "Running" }),
    now: at(5),
    phase: "Running",
  },
  {
    name: "build container OOM-killed while running: Errored",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Running", containerStatuses: [term("build", 137, "OOMKilled"), run("agent")] }),
    now: at(5),
    phase: "Errored",
    reason: "OOMKilled",
    action: "deletePod",
  },
  {
    name: "pod succeeded: Succeeded, with duration",
    build: sampleBuild({
      status: {
        ...running,
        steps: steps({ name: "a", phase: "Succeeded" }, { name: "b", phase: "Succeeded" }),
      },
    }),
    pod: pod({ phase: "Succeeded" }),
    now: at(75),
    phase: "Succeeded",
    message: /all 2 steps/,
  },
  {
    name: "a step failed: Failed naming the step and exit code",
    build: sampleBuild({
      status: {
        ...running,
        steps: steps({ name: "a", phase: "Succeeded" }, { name: "test", phase: "Failed", exitCode: 3 }),
      },
    }),
    pod: pod({ phase: "Failed", containerStatuses: [term("build", 1), term("agent", 1)] }),
    now: at(10),
    phase: "Failed",
    reason: "StepFailed",
    message: /step "test" failed with exit code 3/,
  },
  {
    name: "a step timed out: Failed naming the step",
    build: sampleBuild({ status: { ...running, steps: steps({ name: "slow", phase: "TimedOut" }) } }),
    pod: pod({ phase: "Failed", containerStatuses: [term("agent", 1)] }),
    now: at(10),
    phase: "Failed",
    message: /step "slow" timed out/,
  },
  {
    name: "invalid manifest reported by the agent: Failed with its located message",
    build: sampleBuild({
      status: {
        ...running,
        steps: steps({ name: ".kiln.yaml", phase: "Failed", message: '.kiln.yaml:3:5: unknown key "stpes"' }),
      },
    }),
    pod: pod({ phase: "Failed", containerStatuses: [term("agent", 2)] }),
    now: at(10),
    phase: "Failed",
    reason: "InvalidManifest",
    message: /\.kiln\.yaml:3:5/,
  },
  {
    name: "evicted: Errored, never Succeeded",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory." }),
    now: at(10),
    phase: "Errored",
    reason: "Evicted",
    message: /low on resource/,
  },
  {
    name: "OOM-killed pod: Errored",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Failed", containerStatuses: [term("build", 137, "OOMKilled"), term("agent", 1)] }),
    now: at(10),
    phase: "Errored",
    reason: "OOMKilled",
  },
  {
    name: "fetch failed: Errored with git's message",
    build: sampleBuild({ status: pending }),
    pod: pod({
      phase: "Failed",
      initContainerStatuses: [term("fetch", 128, "Error", "fatal: remote error: not our ref")],
    }),
    now: at(10),
    phase: "Errored",
    reason: "FetchFailed",
    message: /not our ref/,
  },
  {
    name: "agent crashed without a failed step: Errored",
    build: sampleBuild({ status: running }),
    pod: pod({
      phase: "Failed",
      containerStatuses: [term("build", 125), term("agent", 125, "Error", "lost the API")],
    }),
    now: at(10),
    phase: "Errored",
    reason: "PodFailed",
    message: /code 125: lost the API/,
  },
  {
    name: "pod killed by its deadline: TimedOut",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Failed", reason: "DeadlineExceeded" }),
    now: at(10),
    phase: "TimedOut",
  },
  {
    name: "pod lost while running: Errored",
    build: sampleBuild({ status: running }),
    now: at(10),
    phase: "Errored",
    reason: "PodLost",
    message: /b-pod disappeared/,
  },
  {
    name: "timeout passed (measured from start): TimedOut, pod deleted",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Running" }),
    now: at(1801),
    phase: "TimedOut",
    action: "deletePod",
  },
  {
    name: "spec.cancel: Cancelled, pod deleted",
    build: sampleBuild({ spec: { cancel: true }, status: running }),
    pod: pod({ phase: "Running" }),
    now: at(10),
    phase: "Cancelled",
    message: /spec\.cancel/,
    action: "deletePod",
  },
  {
    name: "unschedulable exactly as long as the limit: Errored",
    build: sampleBuild({ status: pending }),
    pod: unschedulable,
    now: at(300),
    phase: "Errored",
    reason: "Unschedulable",
    action: "deletePod",
  },
  {
    name: "unschedulable counts from when the pod became so, not from its creation",
    build: sampleBuild({ status: pending }),
    pod: pod({
      phase: "Pending",
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          lastTransitionTime: iso(200) as unknown as Date,
        },
      ],
    }),
    now: at(400),
    phase: "Pending",
    reason: "Unschedulable",
    requeueAfterMs: 100_000,
  },
  {
    name: "unschedulable with no transition time: from the pod's creation",
    build: sampleBuild({ status: pending }),
    pod: pod({
      phase: "Pending",
      conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }],
    }),
    now: at(301),
    phase: "Errored",
    reason: "Unschedulable",
    action: "deletePod",
  },
  {
    name: "scheduling gated (PodScheduled False, not Unschedulable): plain Pending",
    build: sampleBuild({ status: pending }),
    pod: pod({
      phase: "Pending",
      conditions: [
        { type: "Ready", status: "False", reason: "Unschedulable" },
        { type: "PodScheduled", status: "False", reason: "SchedulingGated" },
      ],
    }),
    now: at(301),
    phase: "Pending",
    reason: "PodPending",
    requeueAfterMs: 299_000,
  },
  {
    name: "a container's config cannot be made (a missing ConfigMap): Errored at once",
    build: sampleBuild({ status: pending }),
    pod: pod({
      phase: "Pending",
      containerStatuses: [wait("build", "CreateContainerConfigError", "configmap x not found")],
    }),
    now: at(1),
    phase: "Errored",
    reason: "CreateContainerConfigError",
    action: "deletePod",
  },
  {
    name: "a .kiln.yaml secret's Secret is not there (the kubelet's word): Failed, naming the entries",
    build: sampleBuild({ status: pending }),
    pod: withSecrets({
      phase: "Pending",
      containerStatuses: [
        wait("build", "CreateContainerConfigError", 'secret "npm" not found'),
        run("agent"),
      ],
    }),
    now: at(1),
    phase: "Failed",
    reason: "SecretMissing",
    message:
      /^ci\/kiln\.yaml: secrets\[0\] \(NPM_TOKEN\), secrets\[2\] \(NPM_USER\) need Secret "npm", which is not in namespace ci; no step ran$/,
    action: "deletePod",
  },
  {
    name: "a .kiln.yaml secret's key is not in its Secret: Failed, naming the entry and the key",
    build: sampleBuild({ status: pending }),
    pod: withSecrets({
      phase: "Pending",
      containerStatuses: [
        wait("build", "CreateContainerConfigError", "couldn't find key key in Secret ci/deploy"),
      ],
    }),
    now: at(1),
    phase: "Failed",
    reason: "SecretMissing",
    message:
      /^ci\/kiln\.yaml: secrets\[1\] \(DEPLOY_KEY\) needs key "key" of Secret "deploy", which has no such key; no step ran$/,
    action: "deletePod",
  },
  {
    name: "a Secret no .kiln.yaml entry names (nor the build container's): the kubelet's error, Errored",
    build: sampleBuild({ status: pending }),
    pod: withSecrets({
      phase: "Pending",
      containerStatuses: [wait("build", "CreateContainerConfigError", 'secret "other" not found')],
    }),
    now: at(1),
    phase: "Errored",
    reason: "CreateContainerConfigError",
    message: /^container "build": secret "other" not found$/,
    action: "deletePod",
  },
  {
    name: "a container cannot be created: Errored at once",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Pending", containerStatuses: [wait("build", "CreateContainerError")] }),
    now: at(1),
    phase: "Errored",
    reason: "CreateContainerError",
    action: "deletePod",
  },
  {
    name: "ErrImagePull at the start limit exactly: Errored ImagePullFailed",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Pending", containerStatuses: [wait("postgres", "ErrImagePull")] }),
    now: at(600),
    phase: "Errored",
    reason: "ImagePullFailed",
    action: "deletePod",
  },
  {
    name: "no container started at the start limit exactly: Errored StartTimeout",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Pending" }),
    now: at(600),
    phase: "Errored",
    reason: "StartTimeout",
    action: "deletePod",
  },
  {
    name: "the fetch init container running past the start limit: preparing, not timed out",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Pending", initContainerStatuses: [run("fetch")] }),
    now: at(601),
    phase: "Pending",
    reason: "PodPending",
    message: /^preparing the workspace$/,
  },
  {
    name: "fetch done, the containers not yet running: preparing",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Pending", initContainerStatuses: [term("fetch", 0)] }),
    now: at(601),
    phase: "Pending",
    reason: "PodPending",
  },
  {
    name: "a container restarted after an OOM kill while the pod runs: Errored",
    build: sampleBuild({ status: running }),
    pod: pod({
      phase: "Running",
      containerStatuses: [
        { ...run("agent"), lastState: { terminated: { exitCode: 137, reason: "OOMKilled" } } },
      ],
    }),
    now: at(5),
    phase: "Errored",
    reason: "OOMKilled",
    action: "deletePod",
  },
  {
    name: "running with steps done and none running now: counts them",
    build: sampleBuild({
      status: {
        ...running,
        steps: steps(
          { name: "a", phase: "Succeeded" },
          { name: "b", phase: "Succeeded" },
          { name: "c", phase: "Pending" },
        ),
      },
    }),
    pod: pod({ phase: "Running" }),
    now: at(5),
    phase: "Running",
    reason: "Running",
    message: /^2 steps done$/,
  },
  {
    name: "running before any step: starting",
    build: sampleBuild({ status: { ...running, steps: steps({ name: "a", phase: "Pending" }) } }),
    pod: pod({ phase: "Running" }),
    now: at(5),
    phase: "Running",
    message: /^starting$/,
  },
  {
    name: "a paused step without a message: names the step",
    build: sampleBuild({ status: { ...running, steps: steps({ name: "debug", phase: "Paused" }) } }),
    pod: pod({ phase: "Running" }),
    now: at(5),
    phase: "Paused",
    reason: "Paused",
    message: /^paused at step "debug"$/,
  },
  {
    name: "the agent stopped the build (exit 130): Cancelled",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Failed", containerStatuses: [term("agent", 130)] }),
    now: at(10),
    phase: "Cancelled",
    reason: "Cancelled",
    message: /^the agent stopped the build$/,
  },
  {
    name: "the agent failed (exit 1) with no step record: Failed, its message",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Failed", containerStatuses: [term("agent", 1, "Error", "step x failed")] }),
    now: at(10),
    phase: "Failed",
    reason: "StepFailed",
    message: /^step x failed$/,
  },
  {
    name: "the agent found the manifest invalid (exit 2) with no record: Failed",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Failed", containerStatuses: [term("agent", 2)] }),
    now: at(10),
    phase: "Failed",
    reason: "StepFailed",
    message: /^a step failed$/,
  },
  {
    name: "the pod failed before the agent ran: Errored PodFailed",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Failed" }),
    now: at(10),
    phase: "Errored",
    reason: "PodFailed",
    message: /^the pod failed before the agent ran$/,
  },
  {
    name: "pod lost while paused: Errored PodLost",
    build: sampleBuild({ status: { ...running, phase: "Paused" } }),
    now: at(10),
    phase: "Errored",
    reason: "PodLost",
  },
  {
    name: "a pod being deleted before the Build recorded anything: Pending, adopted",
    build: sampleBuild(),
    pod: pod({ phase: "Running" }, { deletionTimestamp: iso(9) as unknown as Date }),
    now: at(10),
    phase: "Pending",
    reason: "PodTerminating",
  },
  {
    name: "an unreporting node before the Build recorded anything: Pending",
    build: sampleBuild(),
    pod: pod({ phase: "Unknown" }),
    now: at(10),
    phase: "Pending",
    reason: "PodUnknown",
  },
  {
    name: "the manifest step failed without a message: Failed InvalidManifest, saying so",
    build: sampleBuild({ status: { ...running, steps: steps({ name: ".kiln.yaml", phase: "Failed" }) } }),
    pod: pod({ phase: "Failed", containerStatuses: [term("agent", 2)] }),
    now: at(10),
    phase: "Failed",
    reason: "InvalidManifest",
    message: /^\.kiln\.yaml is invalid$/,
  },
  {
    name: "a step failed with no exit code recorded: says unknown",
    build: sampleBuild({ status: { ...running, steps: steps({ name: "t", phase: "Failed" }) } }),
    pod: pod({ phase: "Failed", containerStatuses: [term("agent", 1)] }),
    now: at(10),
    phase: "Failed",
    message: /^step "t" failed with exit code unknown$/,
  },
  {
    name: "the agent crashed with no message: Errored, its exit code",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Failed", containerStatuses: [term("agent", 125)] }),
    now: at(10),
    phase: "Errored",
    reason: "PodFailed",
    message: /^the agent exited with code 125$/,
  },
  {
    name: "finished builds stay as they are",
    build: sampleBuild({ spec: { cancel: true }, status: { ...running, phase: "Succeeded" } }),
    pod: pod({ phase: "Failed", reason: "Evicted" }),
    now: at(10),
    phase: "Succeeded",
  },
  {
    name: "pod succeeded but a step failed: Failed, the pod's exit does not override the step",
    build: sampleBuild({
      status: {
        ...running,
        steps: steps({ name: "a", phase: "Succeeded" }, { name: "lint", phase: "Failed", exitCode: 4 }),
      },
    }),
    pod: pod({ phase: "Succeeded" }),
    now: at(10),
    phase: "Failed",
    reason: "StepFailed",
    message: /step "lint" failed with exit code 4/,
  },
  {
    name: "kiln fetch exits 1 (its failure code) with no message: Errored FetchFailed, naming the code",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Failed", initContainerStatuses: [term("fetch", 1)] }),
    now: at(10),
    phase: "Errored",
    reason: "FetchFailed",
    message: /^fetching the commit failed: exit code 1$/,
  },
  {
    name: "kiln fetch exits 2 (bad arguments): Errored FetchFailed",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Failed", initContainerStatuses: [term("fetch", 2)], message: "init failed" }),
    now: at(10),
    phase: "Errored",
    reason: "FetchFailed",
  },
  {
    name: "fetch succeeded, agent failed a step: not a fetch failure",
    build: sampleBuild({ status: { ...running, steps: steps({ name: "t", phase: "Failed", exitCode: 1 }) } }),
    pod: pod({
      phase: "Failed",
      initContainerStatuses: [term("fetch", 0)],
      containerStatuses: [term("agent", 1)],
    }),
    now: at(10),
    phase: "Failed",
    reason: "StepFailed",
  },
  {
    name: "pod being deleted: still its phase, saying so",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Running" }, { deletionTimestamp: iso(9) as unknown as Date }),
    now: at(10),
    phase: "Running",
    reason: "PodTerminating",
  },
  {
    name: "the pod's node stops reporting: Unknown, phase kept",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Unknown" }),
    now: at(10),
    phase: "Running",
    reason: "PodUnknown",
  },
];

const named = (name: string, extra: Parameters<typeof sampleBuild>[0] = {}) => {
  const b = sampleBuild({ name, ...extra });
  b.metadata.uid = `${name}-uid`;
  return b;
};
const forkPR = sampleBuild({
  spec: { trigger: { event: "pull_request", pullRequest: { number: 7, fork: true } } },
});
const revived = (n: number) => {
  const b = sampleBuild({ status: pending });
  b.metadata.annotations = { "kiln.dev/revivals": String(n) };
  return b;
};
const reviving = {
  ...pending,
  reason: "Reviving",
  message: "the pod was evicted before any step ran",
} as const;
const ok: ManifestRead = { ok: true, pipeline: samplePipeline };
const nonRoot: ManifestRead = { ok: true, pipeline: { ...samplePipeline, user: { uid: 1000 } } };
const later = (name: string, sha: string, before: string) =>
  named(name, { spec: { revision: { sha, ref: "refs/heads/main", branch: "main", before } } });

const buildRows: Row[] = [
  // The Build's own rules.
  {
    name: "the cancel annotation cancels too, with or without a pod",
    build: (() => {
      const b = sampleBuild({ status: running });
      b.metadata.annotations = { "kiln.dev/cancel": "true" };
      return b;
    })(),
    now: at(1),
    phase: "Cancelled",
    message: /the kiln\.dev\/cancel annotation/,
  },
  {
    name: "cancelled while still queued: Cancelled, nothing to delete",
    build: sampleBuild({ spec: { cancel: true } }),
    phase: "Cancelled",
  },
  {
    name: "a running build is looked at again when its timeout falls due",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Running" }),
    now: at(1000),
    phase: "Running",
    requeueAfterMs: 800_000,
  },
  {
    name: 'the cancel annotation set to "false" cancels nothing',
    build: (() => {
      const b = sampleBuild({ status: running });
      b.metadata.annotations = { "kiln.dev/cancel": "false" };
      return b;
    })(),
    pod: pod({ phase: "Running" }),
    now: at(1),
    phase: "Running",
  },
  {
    name: "exactly at the timeout: TimedOut",
    build: sampleBuild({ status: running }),
    pod: pod({ phase: "Running" }),
    now: at(1800),
    phase: "TimedOut",
    reason: "TimedOut",
    message: /^the build ran longer than its timeout \(30m\)$/,
    action: "deletePod",
  },
  {
    name: "TimedOut, its pod still running: stopped",
    build: sampleBuild({ status: { ...running, phase: "TimedOut" } }),
    pod: pod({ phase: "Running" }),
    phase: "TimedOut",
    action: "deletePod",
  },
  {
    name: "Errored, its pod still running: stopped",
    build: sampleBuild({ status: { ...running, phase: "Errored" } }),
    pod: pod({ phase: "Pending" }),
    phase: "Errored",
    action: "deletePod",
  },
  {
    name: "Failed with the pod still running (its last moments): left to finish",
    build: sampleBuild({ status: { ...running, phase: "Failed" } }),
    pod: pod({ phase: "Running" }),
    phase: "Failed",
  },
  {
    name: "Cancelled, the pod already succeeded: nothing to stop",
    build: sampleBuild({ status: { ...running, phase: "Cancelled" } }),
    pod: pod({ phase: "Succeeded" }),
    phase: "Cancelled",
  },
  {
    name: "Cancelled, the pod already being deleted: nothing more to do",
    build: sampleBuild({ status: { ...running, phase: "Cancelled" } }),
    pod: pod({ phase: "Running" }, { deletionTimestamp: iso(1) as unknown as Date }),
    phase: "Cancelled",
  },
  {
    name: "a refusal that merely mentions PodSecurity (not a 403): retried",
    build: sampleBuild(),
    manifest: ok,
    refused: { code: 500, message: "etcd timeout", refusal: "violates PodSecurity? no: etcd timeout" },
    phase: "Queued",
    reason: "PodCreateFailed",
    retry: true,
  },
  // Finished builds.
  {
    name: "Cancelled, its pod still running (a restart in between): the pod is stopped, status untouched",
    build: sampleBuild({ status: { ...running, phase: "Cancelled", reason: "Cancelled" } }),
    pod: pod({ phase: "Running" }),
    phase: "Cancelled",
    action: "deletePod",
  },
  {
    name: "Errored with the pod already finished: nothing to stop",
    build: sampleBuild({ status: { ...running, phase: "Errored", reason: "OOMKilled" } }),
    pod: pod({ phase: "Failed" }),
    phase: "Errored",
  },
  {
    name: "Cancelled, but the pod is not the Build's: left alone",
    build: sampleBuild({ status: { ...running, phase: "Cancelled" } }),
    pod: pod({ phase: "Running" }, { ownerReferences: [] }),
    phase: "Cancelled",
  },
  // A pod it does not own.
  {
    name: "a pod of its name that it does not own: Errored PodConflict, for good, the pod left alone",
    build: sampleBuild(),
    pod: pod({ phase: "Running" }, { ownerReferences: [] }),
    phase: "Errored",
    reason: "PodConflict",
    message: /a pod named b-pod exists that this Build does not own/,
    terminal: true,
  },
  // Superseding.
  {
    name: "a newer push of its branch: Cancelled (Superseded), its pod deleted",
    build: named("old", {
      status: running,
      spec: { revision: { sha: SHA, ref: "refs/heads/main", branch: "main" } },
    }),
    pod: pod({ phase: "Running" }, { ownerReferences: [{ ...OWNER[0]!, uid: "old-uid" }] }),
    others: [later("new", "b".repeat(40), SHA)],
    now: at(10),
    phase: "Cancelled",
    reason: "Superseded",
    message: /superseded by new, a newer build of branch main/,
    action: "deletePod",
  },
  {
    name: "the newer push itself is not superseded, though created in the same second and named after",
    build: later("a-new", "b".repeat(40), SHA),
    others: [named("z-old", { status: running })],
    holding: ["z-old"],
    phase: undefined,
    action: "readManifest",
  },
  {
    name: "a tag build is never superseded by another tag's",
    build: named("v1", { spec: { revision: { sha: SHA, ref: "refs/tags/v1", tag: "v1" } } }),
    others: [named("v2", { spec: { revision: { sha: "b".repeat(40), ref: "refs/tags/v2", tag: "v2" } } })],
    phase: undefined,
    action: "readManifest",
  },
  // Revivals.
  {
    name: "evicted before any step ran: revived (Pending, Reviving), the count and the old pod to go",
    build: sampleBuild({ status: pending }),
    pod: pod({ phase: "Failed", reason: "Evicted", message: "low on memory" }),
    now: at(10),
    phase: "Pending",
    reason: "Reviving",
    message: /low on memory before any step ran; starting a new pod \(1 of 2\)/,
    action: "revive",
    requeueAfterMs: 500,
    check: (d) => {
      assert.deepEqual(d.action.kind === "revive" && [d.action.revivals, d.action.pod?.metadata?.uid], [
        1,
        "pod-uid",
      ]);
      assert.equal(d.status.completionTime, undefined);
    },
  },
  {
    name: "the pod lost before any step ran, once revived already: revived again, nothing to delete",
    build: revived(1),
    phase: "Pending",
    reason: "Reviving",
    message: /\(2 of 2\)/,
    action: "revive",
    requeueAfterMs: 500,
    check: (d) => assert.equal(d.action.kind === "revive" && d.action.pod, undefined),
  },
  {
    name: "evicted with the revivals used up: Errored Evicted",
    build: revived(2),
    pod: pod({ phase: "Failed", reason: "Evicted" }),
    phase: "Errored",
    reason: "Evicted",
  },
  {
    name: "evicted once a step has run: Errored, no revival",
    build: sampleBuild({ status: { ...running, steps: steps({ name: "a", phase: "Running" }) } }),
    pod: pod({ phase: "Failed", reason: "Evicted" }),
    phase: "Errored",
    reason: "Evicted",
  },
  {
    name: "reviving, the old pod terminating: wait for it",
    build: sampleBuild({ status: reviving }),
    pod: pod({ phase: "Failed", reason: "Evicted" }, { deletionTimestamp: iso(1) as unknown as Date }),
    phase: "Pending",
    reason: "Reviving",
    requeueAfterMs: 500,
  },
  {
    name: "reviving, the old pod still there (a delete lost): delete it and wait",
    build: sampleBuild({ status: reviving }),
    pod: pod({ phase: "Failed", reason: "Evicted" }),
    phase: "Pending",
    reason: "Reviving",
    action: "deletePod",
    requeueAfterMs: 500,
  },
  {
    name: "reviving, the old pod gone: start anew (read .kiln.yaml)",
    build: sampleBuild({ status: reviving }),
    phase: "Pending",
    reason: "Reviving",
    action: "readManifest",
  },
  {
    name: "reviving, a new pod created: Pending again, startTime kept (the timeout counts from the first start)",
    build: sampleBuild({ status: { ...reviving, startTime: iso(-60) } }),
    pod: pod(undefined, { creationTimestamp: iso(5) as unknown as Date }),
    now: at(5),
    phase: "Pending",
    reason: "PodPending",
    check: (d) => assert.equal(d.status.startTime, iso(-60)),
  },
  {
    name: "queued again after a revival (no slot then), pod gone: starts when a slot is free",
    build: sampleBuild({ status: { ...pending, phase: "Queued", reason: "WaitingForSlot" } }),
    phase: "Queued",
    action: "readManifest",
  },
  // Starting, step by step.
  {
    name: "no Repository: Queued, waiting for it",
    build: sampleBuild(),
    repository: null,
    phase: "Queued",
    reason: "RepositoryNotFound",
    message: /waiting for Repository "api"/,
  },
  {
    name: "a fork's pull request: Queued until an admin approves",
    build: forkPR,
    phase: "Queued",
    reason: "AwaitingApproval",
    message: /\/approve/,
  },
  {
    name: "the repository's slots taken: Queued, saying how many",
    build: named("q", { created: iso(9) }),
    others: [
      named("r1", { status: running, spec: { revision: { sha: SHA, ref: "refs/heads/a", branch: "a" } } }),
      named("r2", { status: running, spec: { revision: { sha: SHA, ref: "refs/heads/b", branch: "b" } } }),
    ],
    phase: "Queued",
    reason: "WaitingForSlot",
    message: /2 of 2 running, 0 queued ahead/,
  },
  {
    name: "a slot held by a build still getting its pod counts",
    build: named("q", { created: iso(9) }),
    others: [
      named("s1", { spec: { revision: { sha: SHA, ref: "refs/heads/a", branch: "a" } } }),
      named("s2", { spec: { revision: { sha: SHA, ref: "refs/heads/b", branch: "b" } } }),
    ],
    holding: ["s1", "s2"],
    phase: "Queued",
    reason: "WaitingForSlot",
  },
  {
    name: "a slot free: read .kiln.yaml first, status unchanged",
    build: sampleBuild(),
    phase: undefined,
    action: "readManifest",
  },
  {
    name: ".kiln.yaml not readable now: Queued saying why, retried with backoff",
    build: sampleBuild(),
    manifest: { ok: false, unavailable: "secret acme-token not found" },
    phase: "Queued",
    reason: "ManifestUnavailable",
    message: /^cannot read \.kiln\.yaml at 4f2c1a9, retrying: secret acme-token not found$/,
    retry: true,
  },
  {
    name: "an invalid .kiln.yaml: Failed with its located message, no pod",
    build: sampleBuild(),
    manifest: { ok: false, reason: "InvalidManifest", message: ".kiln.yaml:2:1: steps is required" },
    phase: "Failed",
    reason: "InvalidManifest",
    message: /\.kiln\.yaml:2:1/,
  },
  {
    name: "a readable .kiln.yaml: create the build pod",
    build: sampleBuild(),
    manifest: ok,
    phase: undefined,
    action: "createPod",
    check: (d) => {
      assert.ok(d.action.kind === "createPod");
      assert.equal(d.action.pod.metadata?.name, "api-main-4f2c1a9-pod");
      assert.equal(d.action.pod.metadata?.ownerReferences?.[0]?.uid, "build-uid");
    },
  },
  {
    name: "the pod just created: Pending, recording the pod and when it started",
    build: sampleBuild(),
    manifest: ok,
    pod: pod(undefined),
    now: at(0.3),
    phase: "Pending",
    reason: "PodPending",
    message: /waiting for the pod to start/,
    requeueAfterMs: 599_700,
    check: (d) => assert.deepEqual([d.status.podName, d.status.startTime], ["b-pod", iso(0)]),
  },
  {
    name: "the API refuses the pod as invalid (422): Errored InvalidPod",
    build: sampleBuild(),
    manifest: ok,
    refused: { code: 422, message: "Pod is invalid: spec.containers[0].image: Required value", refusal: "" },
    phase: "Errored",
    reason: "InvalidPod",
    message: /refused the build pod: Pod is invalid/,
  },
  {
    name: "Pod Security refuses a root pipeline: Errored PodSecurity, with the hint",
    build: sampleBuild(),
    manifest: ok,
    refused: {
      code: 403,
      message: "forbidden",
      refusal: 'pods "x" is forbidden: violates PodSecurity "restricted:latest"',
    },
    phase: "Errored",
    reason: "PodSecurity",
    message:
      /violates PodSecurity "restricted:latest"\. The pod meets "restricted" when \.kiln\.yaml names a non-root user/,
  },
  {
    name: "Pod Security refuses a non-root pipeline: Errored PodSecurity, no hint that would not help",
    build: sampleBuild(),
    manifest: nonRoot,
    refused: {
      code: 403,
      message: "forbidden",
      refusal: 'violates PodSecurity "restricted:latest": seccomp',
    },
    phase: "Errored",
    reason: "PodSecurity",
    message: /seccomp\.$/,
  },
  {
    name: "any other refusal (a missing service account): Queued PodCreateFailed, retried",
    build: sampleBuild(),
    manifest: ok,
    refused: { code: 403, message: 'serviceaccount "kiln-build" not found', refusal: "" },
    phase: "Queued",
    reason: "PodCreateFailed",
    message: /cannot create the build pod, retrying: serviceaccount "kiln-build" not found/,
    retry: true,
  },
  {
    name: "an existing pod of ours, found by AlreadyExists or after a restart: adopted",
    build: sampleBuild(),
    pod: pod({ phase: "Running", containerStatuses: [run("agent")] }),
    now: at(3),
    phase: "Running",
    check: (d) => assert.deepEqual([d.status.podName, d.status.startTime], ["b-pod", iso(0)]),
  },
];

function inputOf(row: Row): DecideInput {
  const siblings = [row.build, ...(row.others ?? [])];
  const holding = new Set(row.holding ?? []);
  return {
    build: row.build,
    pod: row.pod,
    siblings,
    repository: row.repository === null ? undefined : (row.repository ?? sampleRepository()),
    now: row.now ?? T0,
    config: { ...config, maxRevivals: row.maxRevivals ?? config.maxRevivals },
    holdsSlot: (b) => b.status?.podName !== undefined || holding.has(b.metadata.name!),
    ...(row.manifest && { manifest: row.manifest }),
    ...(row.refused && { refused: row.refused }),
  };
}

function summary(d: ReturnType<typeof decide>) {
  const { action } = d;
  if (action.kind === "createPod") return { ...d, action: { ...action, pod: action.pod.metadata?.name } };
  if (action.kind === "deletePod" || action.kind === "revive")
    return { ...d, action: { ...action, pod: action.pod?.metadata?.uid } };
  return d;
}

function check(rows: Row[]) {
  for (const row of rows) {
    test(row.name, (t) => {
      const d = decide(inputOf(row));
      t.assert.equal(d.status.phase, row.phase);
      if (row.reason) t.assert.equal(d.status.reason, row.reason);
      if (row.message) t.assert.match(d.status.message ?? "", row.message);
      t.assert.equal(d.action.kind, row.action ?? "none");
      if (row.requeueAfterMs !== undefined) t.assert.equal(d.requeueAfterMs, row.requeueAfterMs);
      t.assert.equal(d.retry ?? false, row.retry ?? false);
      t.assert.equal(d.terminal ?? false, row.terminal ?? false);
      const finished = ["Succeeded", "Failed", "Errored", "Cancelled", "TimedOut"].includes(
        d.status.phase ?? "",
      );
      if (finished && row.build.status?.phase !== d.status.phase) {
        t.assert.equal(d.status.completionTime, new Date(row.now ?? T0).toISOString());
        assert.ok(d.status.duration);
      }
      row.check?.(d);
      // The whole decision, messages included (a pod by name or uid: build-pod.test.ts has it whole).
      t.assert.snapshot(summary(d));
    });
  }
}

describe("decide: what the pod says", () => {
  check(podRows.map((r) => ({ maxRevivals: 0, ...r })));

  test("duration is measured from startTime", (t) => {
    const d = decide(
      inputOf({
        name: "duration",
        build: sampleBuild({ status: running }),
        pod: pod({ phase: "Succeeded" }),
        now: at(187),
        phase: "",
      }),
    );
    t.assert.equal(d.status.duration, "3m07s");
  });
});

describe("decide: the Build's own rules, superseding, revivals, starting", () => {
  check(buildRows);
});
