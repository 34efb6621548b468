// Registers or updates the Repository's webhook and asks GitHub to redeliver failed deliveries.
// Returns the condition to record; GitHub's "you may not" answers become reasons, not retries.

import { ANNOTATIONS } from "../../api/group.ts";
import type { RepositoryReason } from "../../api/reasons.ts";
import type { Repository } from "../../api/repository.ts";
import type { ConditionInput } from "./conditions.ts";
import { REASONS } from "./conditions.ts";
import type { RepositoryDeps, RepositoryMemory } from "./deps.ts";
import { desiredHook, planHook, secretFingerprint } from "./desired-hook.ts";
import { type RepoGitHub, statusOf } from "./github.ts";
import { alreadyBuilt, deliveriesToRedeliver } from "./redeliver.ts";

export interface HookResult {
  condition: ConditionInput;
  hookID?: number;
  /** The Repository's resourceVersion after any metadata write here. */
  resourceVersion?: string;
  /** A failure worth retrying with backoff (after the condition is written). */
  retry?: unknown;
}

export function gitHubRefusal(err: unknown, action: string): ConditionInput | undefined {
  const status = statusOf(err);
  const message = `${action}: GitHub answered ${status}: ${(err as Error).message}`;
  if (status === 401) return { type: "WebhookReady", status: "False", reason: REASONS.unauthorized, message };
  if (status === 403 && !/rate limit/i.test((err as Error).message)) {
    return { type: "WebhookReady", status: "False", reason: REASONS.forbidden, message };
  }
  if (status === 404) {
    return {
      type: "WebhookReady",
      status: "False",
      reason: REASONS.notFound,
      message: `${message} (missing, or the token lacks admin access)`,
    };
  }
  return undefined;
}

/** WebhookReady=False, saying why: nothing was asked of GitHub. */
function notReady(reason: RepositoryReason, message: string): HookResult {
  return { condition: { type: "WebhookReady", status: "False", reason, message } };
}

export async function syncHook(
  repository: Repository,
  gh: RepoGitHub,
  deps: RepositoryDeps,
  memory: RepositoryMemory,
): Promise<HookResult> {
  const ref = repository.spec.webhook?.secretRef;
  const namespace = repository.metadata.namespace ?? "default";
  if (!ref) {
    return notReady(REASONS.notConfigured, "spec.webhook is not set; new commits are found by polling only");
  }
  const secret = await deps.readSecretKey(namespace, ref.name, ref.key);
  if (!secret) {
    return notReady(REASONS.secretMissing, `Secret ${ref.name} has no key ${ref.key}`);
  }
  const desired = desiredHook(repository, deps.webhookURL, secret);
  if (typeof desired === "string") return notReady(REASONS.noURL, desired);
  let step = "listing webhooks";
  try {
    const plan = planHook(
      desired,
      await gh.listHooks(),
      repository.status?.hookID,
      repository.metadata.annotations?.[ANNOTATIONS.webhookSecretFingerprint],
    );
    for (const id of plan.remove) {
      step = `deleting duplicate webhook ${id}`;
      await gh.deleteHook(id);
    }
    let id: number;
    if (plan.action === "create") {
      step = "creating the webhook";
      id = (await gh.createHook(plan.hook)).id;
    } else {
      id = plan.id;
      if (plan.action === "update") {
        step = `updating webhook ${id}`;
        await gh.updateHook(id, plan.hook);
      }
    }
    const fingerprint = secretFingerprint(id, secret);
    let resourceVersion = repository.metadata.resourceVersion;
    if (repository.metadata.annotations?.[ANNOTATIONS.webhookSecretFingerprint] !== fingerprint) {
      step = "recording the secret fingerprint";
      const patched = await deps.patchMetadata(namespace, repository.metadata.name!, {
        resourceVersion: repository.metadata.resourceVersion,
        annotations: { [ANNOTATIONS.webhookSecretFingerprint]: fingerprint },
      });
      resourceVersion = patched.metadata.resourceVersion;
    }
    // A failed redelivery request does not make the hook less ready: it is only retried.
    let retry: unknown;
    try {
      for (const delivery of deliveriesToRedeliver(
        await gh.listDeliveries(id),
        memory.redelivered,
        deps.now(),
      )) {
        const sent = await gh.deliveryPayload(id, delivery.id);
        const builds = deps.listBuilds(repository.metadata.namespace ?? "default", repository.metadata.name!);
        if (!alreadyBuilt(sent.event, sent.payload, builds)) await gh.redeliver(id, delivery.id);
        memory.redelivered.add(delivery.guid);
        deps.log.info(
          { hookID: id, delivery: delivery.guid, statusCode: delivery.status_code },
          "asked GitHub to redeliver",
        );
      }
    } catch (err) {
      deps.log.warn({ hookID: id, err: (err as Error).message }, "redelivering failed deliveries failed");
      retry = err;
    }
    return {
      hookID: id,
      resourceVersion,
      ...(retry !== undefined && { retry }),
      condition: {
        type: "WebhookReady",
        status: "True",
        reason: REASONS.registered,
        message: `webhook ${id} delivers to ${desired.url}`,
      },
    };
  } catch (err) {
    const refusal = gitHubRefusal(err, step);
    if (refusal) return { condition: refusal };
    const status = statusOf(err);
    const reason = status === 403 || status === 429 ? REASONS.rateLimited : REASONS.gitHubError;
    return {
      condition: {
        type: "WebhookReady",
        status: "Unknown",
        reason,
        message: `${step}: ${(err as Error).message}`,
      },
      retry: err,
    };
  }
}
