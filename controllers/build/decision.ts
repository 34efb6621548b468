// What decide.ts is given and what it answers: the inputs (all read by the shell beforehand), the owned
// status, and the one action for reconcile.ts to carry out.
import type { V1Pod } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import type { BuildPodConfig } from "./build-pod.ts";
import type { ParsedManifest } from "./manifest-source.ts";
import type { OwnedStatus } from "./owned-status.ts";
import type { StatusLimits } from "./pod-status.ts";

export type Action =
  | { kind: "none" }
  /** To start: read .kiln.yaml at the commit, then decide again with `manifest`. */
  | { kind: "readManifest"; repository: Repository }
  /** Create this pod, then decide again with it as `pod` (or with `refused`). */
  | { kind: "createPod"; pod: V1Pod }
  /** After the status is written: stop the pod. */
  | { kind: "deletePod"; pod: V1Pod }
  /** After the status is written: record the revival count, then delete the old pod if it is still there. */
  | { kind: "revive"; revivals: number; pod?: V1Pod };

export interface Decision {
  status: OwnedStatus;
  action: Action;
  /** Look again after this long: a timeout or limit falls due then. */
  requeueAfterMs?: number;
  /** Once the status is written, fail the pass so it is retried with backoff (the cause is passing). */
  retry?: boolean;
  /** Once the status is written, fail the pass for good. */
  terminal?: boolean;
}

/** The .kiln.yaml at the build's commit: parsed, invalid, or not readable now (network, a missing Secret). */
export type ManifestRead = ParsedManifest | { ok: false; unavailable: string };

/** The API's refusal of the pod: its status code, message and the Status body's message. */
export interface PodRefusal {
  code: number | undefined;
  message: string;
  refusal: string;
}

export type DecideConfig = BuildPodConfig & StatusLimits & { maxRevivals: number };

export interface DecideInput {
  build: Build;
  /** The Build's pod, if there is one (from the cache, this process's own creates, or the API). */
  pod: V1Pod | undefined;
  /** The Repository's unfinished Builds, this one among them. */
  siblings: readonly Build[];
  repository: Repository | undefined;
  now: number;
  config: DecideConfig;
  /** Whether a build holds a concurrency slot: it has a pod, or is getting one. */
  holdsSlot: (build: Build) => boolean;
  manifest?: ManifestRead;
  refused?: PodRefusal;
}
