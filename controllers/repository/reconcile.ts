// The repository reconciler: key in, GitHub and status brought in line, look again after intervalMs.
// Order: read → deleted? finalize → ensure finalizer → webhook (+ redeliveries) → catch-up → status.
import { FINALIZERS } from "../../api/group.ts";
import type { Repository } from "../../api/repository.ts";
import type { ObjectKey } from "../../lib/runtime/keys.ts";
import { REASONS, setCondition } from "./conditions.ts";
import { memoryFor, type RepositoryDeps, type RepositoryMemory } from "./deps.ts";
import { finalize } from "./finalize.ts";
import { newestBuild } from "./last-build.ts";
import { runCatchUp } from "./run-catch-up.ts";
import { gitHubRefusal, type HookResult, syncHook } from "./sync-hook.ts";

export function createReconciler(deps: RepositoryDeps) {
  const memories = new Map<string, RepositoryMemory>();

  return async function reconcile({
    namespace,
    name,
  }: ObjectKey): Promise<{ requeueAfter: number } | undefined> {
    let repository = deps.getRepository(namespace, name);
    const memory = memoryFor(memories, `${namespace}/${name}`);
    if (!repository) {
      memories.delete(`${namespace}/${name}`);
      return undefined;
    }
    if (repository.metadata.deletionTimestamp) {
      await finalize(repository, deps, memory);
      return undefined;
    }
    if (!repository.metadata.finalizers?.includes(FINALIZERS.webhook)) {
      repository = await deps.patchMetadata(namespace, name, {
        resourceVersion: repository.metadata.resourceVersion,
        finalizers: [...(repository.metadata.finalizers ?? []), FINALIZERS.webhook],
      });
    }
    const result = await observe(repository, deps, memory);
    await writeStatus(repository, result, deps);
    if (result.retry !== undefined) throw result.retry;
    // A head waiting out its grace period is looked at again when the grace ends, not a whole interval later.
    const now = deps.now();
    const due = [...memory.firstSeen.values()].map((first) => first + deps.graceMs - now);
    return { requeueAfter: Math.max(0, Math.min(deps.intervalMs, ...due.map((ms) => Math.max(ms, 100)))) };
  };
}

async function observe(
  repository: Repository,
  deps: RepositoryDeps,
  memory: RepositoryMemory,
): Promise<HookResult> {
  const namespace = repository.metadata.namespace ?? "default";
  const ref = repository.spec.tokenSecretRef;
  const token = ref ? await deps.readSecretKey(namespace, ref.name, ref.key) : undefined;
  if (!token) {
    if (!ref && !repository.spec.webhook) {
      // Deliberately unconnected (a local repository, as in the sandbox): say so, not that a token is missing.
      const message =
        "spec.webhook and spec.tokenSecretRef are not set: no webhook, no polling of GitHub; Builds are created by hand";
      return { condition: { type: "WebhookReady", status: "False", reason: REASONS.notConfigured, message } };
    }
    const message = ref ? `Secret ${ref.name} has no key ${ref.key}` : "spec.tokenSecretRef is not set";
    return { condition: { type: "WebhookReady", status: "False", reason: REASONS.tokenMissing, message } };
  }
  memory.token = token;
  const apiURL = repository.spec.github.apiURL ?? deps.apiURL;
  const gh = deps.gitHub({
    owner: repository.spec.github.owner,
    repo: repository.spec.github.name,
    token,
    ...(apiURL && { baseUrl: apiURL }),
  });
  const hook = await syncHook(repository, gh, deps, memory);
  // A bad token fails everything; otherwise catch-up runs even when the hook could not be managed
  // (a read-only token still reads branches), so pushes are not lost while the webhook is down.
  if (hook.condition.reason === REASONS.unauthorized) return hook;
  try {
    await runCatchUp(repository, gh, deps, memory);
  } catch (err) {
    deps.log.warn(
      { namespace, name: repository.metadata.name, err: (err as Error).message },
      "catch-up failed",
    );
    if (gitHubRefusal(err, "catch-up") === undefined) return { ...hook, retry: hook.retry ?? err };
  }
  return hook;
}

async function writeStatus(repository: Repository, result: HookResult, deps: RepositoryDeps): Promise<void> {
  const generation = repository.metadata.generation;
  const status = repository.status ?? {};
  const lastBuild = newestBuild(
    deps.listBuilds(repository.metadata.namespace ?? "default", repository.metadata.name!),
  );
  // Only the fields this controller owns: status.telegram belongs to the reporting controller.
  const owned = {
    conditions: setCondition(status.conditions, result.condition, new Date(deps.now()), generation),
    ...(generation !== undefined && { observedGeneration: generation }),
    ...(result.hookID !== undefined && { hookID: result.hookID }),
    ...(lastBuild !== undefined && { lastBuild }),
  };
  const unchanged = Object.entries(owned).every(
    ([field, value]) => JSON.stringify(status[field as keyof typeof status]) === JSON.stringify(value),
  );
  if (unchanged) return;
  await deps.patchStatus(
    repository.metadata.namespace ?? "default",
    repository.metadata.name!,
    result.resourceVersion ?? repository.metadata.resourceVersion,
    owned,
  );
}
