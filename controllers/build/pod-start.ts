// Starting a build takes two answers only I/O gives: the .kiln.yaml at the commit, then the API's answer to
// the pod. Each goes back to decide (pure) as input. A pod that already exists is read and handed to decide
// as the Build's pod: ours (from a run that died before recording it) is adopted, anyone else's is a
// conflict. What is under way is remembered in InFlight until the caches show it.
import type { V1Pod } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import type { KubeClient } from "../../lib/kube.ts";
import { httpStatus, isAlreadyExists } from "../../lib/kube-errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { Clock } from "../../lib/runtime/clock.ts";
import { decide } from "./decide.ts";
import type { DecideInput, Decision, ManifestRead } from "./decision.ts";
import type { InFlight } from "./in-flight.ts";
import { ownedBy, podPath } from "./kube-paths.ts";
import type { ParsedManifest } from "./manifest-source.ts";
import type { BuildMetrics } from "./metrics.ts";

export interface PodStarterDeps {
  client: KubeClient;
  manifests: { read(repository: Repository, sha: string): Promise<ParsedManifest> };
  clock: Clock;
  log: Logger;
  metrics: BuildMetrics;
}

export interface Started {
  decision: Decision;
  /** The error behind a decision to retry (decision.retry), rethrown once the status is written. */
  failure?: unknown;
}

const refusalOf = (err: unknown) => ({
  code: httpStatus(err),
  message: (err as Error).message,
  refusal: (err as { body?: { message?: string } }).body?.message ?? "",
});

export function podStarter(deps: PodStarterDeps, inFlight: InFlight) {
  const { client, clock, log } = deps;

  /** Starting: read .kiln.yaml, create the pod; each answer goes back to decide. Keeps the error to retry. */
  async function start(input: DecideInput, first: Decision, key: string): Promise<Started> {
    let decision = first;
    let failure: unknown;
    inFlight.start(key);
    try {
      if (decision.action.kind === "readManifest") {
        let manifest: ManifestRead;
        try {
          manifest = await deps.manifests.read(decision.action.repository, input.build.spec.revision.sha);
        } catch (err) {
          failure = err;
          manifest = { ok: false, unavailable: (err as Error).message };
        }
        input = { ...input, manifest };
        decision = decide(input);
      }
      if (decision.action.kind === "createPod") {
        const { pod, refused } = await createPod(input.build, decision.action.pod, key);
        if (refused !== undefined) failure = refused;
        decision = decide({ ...input, pod, ...(refused !== undefined && { refused: refusalOf(refused) }) });
      }
    } finally {
      if (!inFlight.pod(key)) inFlight.abandon(key);
    }
    return { decision, failure };
  }

  /** The pod as created, or as found (AlreadyExists: ours from a run that died before recording it, or not ours). */
  async function createPod(
    build: Build,
    desired: V1Pod,
    key: string,
  ): Promise<{ pod?: V1Pod; refused?: unknown }> {
    const ns = build.metadata.namespace!;
    try {
      const pod = await client.create<V1Pod>(podPath(ns), desired);
      inFlight.created(key, pod);
      observeQueueTime(build);
      return { pod };
    } catch (err) {
      if (!isAlreadyExists(err)) return { refused: err };
      const pod = await client.get<V1Pod>(podPath(ns, desired.metadata!.name));
      if (ownedBy(pod, build)) {
        inFlight.created(key, pod);
        log.info({ pod: pod.metadata?.name }, "adopted existing pod");
      }
      return { pod };
    }
  }

  function observeQueueTime(build: Build) {
    const created = Date.parse(build.metadata.creationTimestamp ?? "");
    if (created) deps.metrics.queueSeconds.observe(Math.max(0, clock.now() - created) / 1000);
  }

  return start;
}
