// The part of decide.ts for a Build without a pod: whether it may start now, and how far it has got.
// Starting takes facts that only I/O gives (the .kiln.yaml at the commit, the API's answer to the pod), so
// it is decided in steps: each step's answer comes back as input (`manifest`, then the pod or `refused`),
// and the same pure rules run again with it.

import type { Build } from "../../api/build.ts";
import type { BuildReason } from "../../api/reasons.ts";
import { buildPod, runsAsNonRoot } from "./build-pod.ts";
import type { DecideInput, Decision, PodRefusal } from "./decision.ts";
import { finish, owned } from "./owned-status.ts";
import { admit, approvalMessage, awaitsApproval } from "./queueing.ts";

const NONE = { kind: "none" } as const;

function queued(build: Build, reason: BuildReason, message: string): Decision {
  const status = {
    ...owned(build.status),
    phase: "Queued" as const,
    reason,
    message,
    observedGeneration: build.metadata.generation,
  };
  return { status, action: NONE };
}

/** Why the API refused the pod: for good (an invalid pod, the namespace's Pod Security), or for now. */
function refusedDecision(input: DecideInput, refused: PodRefusal, userSet: boolean): Decision {
  const { build, now, repository } = input;
  if (refused.code === 422) {
    const message = `the API server refused the build pod: ${refused.message}`;
    return { status: finish(build, "Errored", "InvalidPod", message, now), action: NONE };
  }
  if (refused.code === 403 && refused.refusal.includes("violates PodSecurity")) {
    // The namespace's Pod Security level will refuse this pod every time: say what would let it in.
    const hint = userSet
      ? ""
      : ` The pod meets "restricted" when ${repository?.spec.manifest} names a non-root user: for the build and every service; otherwise label the namespace pod-security.kubernetes.io/enforce=baseline.`;
    const message = `the namespace's Pod Security admission refused the build pod: ${refused.refusal}.${hint}`;
    return { status: finish(build, "Errored", "PodSecurity", message, now), action: NONE };
  }
  // A missing service account or quota may be fixed: retried with backoff, meanwhile the Build says why.
  return {
    ...queued(build, "PodCreateFailed", `cannot create the build pod, retrying: ${refused.message}`),
    retry: true,
  };
}

export function startDecision(input: DecideInput): Decision {
  const { build, repository, manifest, refused, now } = input;
  if (!repository)
    return queued(build, "RepositoryNotFound", `waiting for Repository "${build.spec.repository}"`);
  if (awaitsApproval(build, repository)) return queued(build, "AwaitingApproval", approvalMessage(build));
  const admission = admit(build, input.siblings, repository, input.holdsSlot);
  if (!admission.run) return queued(build, "WaitingForSlot", admission.message);
  if (!manifest) return { status: owned(build.status), action: { kind: "readManifest", repository } };
  if ("unavailable" in manifest) {
    const sha = build.spec.revision.sha.slice(0, 7);
    const message = `cannot read ${repository.spec.manifest} at ${sha}, retrying: ${manifest.unavailable}`;
    return { ...queued(build, "ManifestUnavailable", message), retry: true };
  }
  if (!manifest.ok)
    return { status: finish(build, "Failed", manifest.reason, manifest.message, now), action: NONE };
  if (refused) return refusedDecision(input, refused, runsAsNonRoot(manifest.pipeline));
  const pod = buildPod(build, repository, manifest.pipeline, input.config);
  return { status: owned(build.status), action: { kind: "createPod", pod } };
}
