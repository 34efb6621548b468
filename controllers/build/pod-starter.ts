// Starting a build: admission (concurrency), the pipeline file at the commit, then creating the pod — or
// adopting the one a previous run created. Remembers what is in flight until the caches show it.
import type { V1Pod } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import type { KubeClient } from "../../lib/kube.ts";
import { httpStatus, isAlreadyExists } from "../../lib/kube-errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { Clock } from "../../lib/runtime/clock.ts";
import type { Informer } from "../../lib/runtime/informer.ts";
import { type BuildPodConfig, buildPod, runsAsNonRoot } from "./build-pod.ts";
import { finish, type OwnedStatus, owned, type StatusDecision } from "./build-status.ts";
import { ACTIVE_BY_REPOSITORY, repositoryIndexKey } from "./indexes.ts";
import { ownedBy, podPath } from "./kube-paths.ts";
import type { ParsedManifest } from "./manifest-source.ts";
import type { BuildMetrics } from "./metrics.ts";
import { podName } from "./names.ts";
import { admit, approvalMessage, awaitsApproval } from "./queueing.ts";
import type { StatusWriter } from "./status-writer.ts";

export interface PodStarterDeps {
  client: KubeClient;
  builds: Informer<Build>;
  pods: Informer<V1Pod>;
  manifests: { read(repository: Repository, sha: string): Promise<ParsedManifest> };
  config: BuildPodConfig & { startTimeoutMs: number };
  clock: Clock;
  log: Logger;
  metrics: BuildMetrics;
  writeStatus: StatusWriter;
}

export class PodStarter {
  // Builds whose pod is being created: they hold a concurrency slot before the cache shows it.
  readonly starting = new Set<string>();
  // Pods we created that the pod cache may not show yet (the pod and Build watches are not ordered).
  readonly createdPods = new Map<string, V1Pod>();
  readonly #deps: PodStarterDeps;

  constructor(deps: PodStarterDeps) {
    this.#deps = deps;
  }

  forget(key: string): void {
    this.starting.delete(key);
    this.createdPods.delete(key);
  }

  readonly #isActive = (b: Build) =>
    b.status?.podName !== undefined ||
    this.starting.has(`${b.metadata.namespace}/${b.metadata.name}`) ||
    this.#deps.pods.get(b.metadata.namespace!, podName(b.metadata.name!)) !== undefined;

  async start(build: Build, repo: Repository | undefined, key: string): Promise<StatusDecision> {
    const { client, builds, clock, config, log, writeStatus } = this.#deps;
    const { starting, createdPods } = this;
    const queued = (reason: string, message: string): StatusDecision => ({
      status: {
        ...owned(build.status),
        phase: "Queued",
        reason,
        message,
        observedGeneration: build.metadata.generation,
      },
      deletePod: false,
    });
    if (!repo) return queued("RepositoryNotFound", `waiting for Repository "${build.spec.repository}"`);
    if (awaitsApproval(build, repo)) return queued("AwaitingApproval", approvalMessage(build));
    const ns = build.metadata.namespace!;
    const admission = admit(
      build,
      builds.byIndex(ACTIVE_BY_REPOSITORY, repositoryIndexKey(build)),
      repo,
      this.#isActive,
    );
    if (!admission.run) return queued("WaitingForSlot", admission.message);
    starting.add(key);
    try {
      let manifest: ParsedManifest;
      try {
        manifest = await this.#deps.manifests.read(repo, build.spec.revision.sha);
      } catch (err) {
        // Retried with backoff (GitHub down, a Secret not there yet); meanwhile the Build says why.
        starting.delete(key);
        const message = `cannot read ${repo.spec.manifest} at ${build.spec.revision.sha.slice(0, 7)}, retrying: ${(err as Error).message}`;
        await writeStatus(build, owned(build.status), queued("ManifestUnavailable", message).status);
        throw err;
      }
      if (!manifest.ok) {
        starting.delete(key);
        return {
          status: finish(build, "Failed", manifest.reason, manifest.message, clock.now()),
          deletePod: false,
        };
      }
      const desired = buildPod(build, repo, manifest.pipeline, config);
      let pod: V1Pod;
      try {
        pod = await client.create<V1Pod>(podPath(ns), desired);
        createdPods.set(key, pod);
        const created = Date.parse(build.metadata.creationTimestamp ?? "");
        if (created) this.#deps.metrics.queueSeconds.observe(Math.max(0, clock.now() - created) / 1000);
      } catch (err) {
        if (httpStatus(err) === 422) {
          starting.delete(key);
          const message = `the API server refused the build pod: ${(err as Error).message}`;
          return { status: finish(build, "Errored", "InvalidPod", message, clock.now()), deletePod: false };
        }
        const refusal = (err as { body?: { message?: string } }).body?.message ?? "";
        if (httpStatus(err) === 403 && refusal.includes("violates PodSecurity")) {
          // The namespace's Pod Security level will refuse this pod every time: say what would let it in.
          starting.delete(key);
          const hint = runsAsNonRoot(manifest.pipeline)
            ? ""
            : ` The pod meets "restricted" when ${repo.spec.manifest} names a non-root user: for the build and every service; otherwise label the namespace pod-security.kubernetes.io/enforce=baseline.`;
          const message = `the namespace's Pod Security admission refused the build pod: ${refusal}.${hint}`;
          return { status: finish(build, "Errored", "PodSecurity", message, clock.now()), deletePod: false };
        }
        if (!isAlreadyExists(err)) {
          // Retried with backoff (a missing service account or quota may be fixed); meanwhile say why.
          starting.delete(key);
          const message = `cannot create the build pod, retrying: ${(err as Error).message}`;
          await writeStatus(build, owned(build.status), queued("PodCreateFailed", message).status);
          throw err;
        }
        pod = await client.get<V1Pod>(podPath(ns, desired.metadata!.name));
        if (!ownedBy(pod, build)) {
          starting.delete(key);
          const message = `a pod named ${desired.metadata!.name} already exists and does not belong to this Build`;
          return { status: finish(build, "Errored", "PodConflict", message, clock.now()), deletePod: false };
        }
        log.info({ pod: pod.metadata?.name }, "adopted existing pod");
      }
      const status: OwnedStatus = {
        ...owned(build.status),
        // What buildStatus says of a fresh pod, so the pod's own events do not cause a second write.
        phase: "Pending",
        reason: "PodPending",
        message: "waiting for the pod to start",
        podName: pod.metadata!.name,
        startTime: build.status?.startTime ?? new Date(clock.now()).toISOString(),
        observedGeneration: build.metadata.generation,
      };
      return { status, deletePod: false, requeueAfterMs: config.startTimeoutMs };
    } catch (err) {
      starting.delete(key);
      throw err;
    }
  }
}
