// Pure: what Kiln does with one verified delivery for one Repository.
import type { z } from "zod";
import type { Repository } from "../api/repository.ts";
import { HttpError } from "../lib/http-error.ts";
import { buildFromPullRequest, buildFromPush, type Outcome } from "./build-from-push.ts";
import { pullRequestEvent, pushEvent } from "./payloads.ts";

export type Decision = Outcome | { kind: "pong"; zen?: string };

function parse<T>(schema: z.ZodType<T>, payload: unknown, event: string): T {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const at = issue?.path.length ? issue.path.join(".") : "payload";
  throw new HttpError(400, `${event} payload: ${at}: ${issue?.message ?? "invalid"}`);
}

export function routeEvent(
  event: string,
  payload: unknown,
  repository: Repository,
  deliveryID: string,
  receivedAt?: string,
): Decision {
  switch (event) {
    case "ping": {
      const zen = (payload as { zen?: unknown }).zen;
      return typeof zen === "string" ? { kind: "pong", zen } : { kind: "pong" };
    }
    case "push":
      return buildFromPush(parse(pushEvent, payload, event), repository, deliveryID, receivedAt);
    case "pull_request":
      return buildFromPullRequest(
        parse(pullRequestEvent, payload, event),
        repository,
        deliveryID,
        receivedAt,
      );
    case "create":
      return { kind: "ignore", reason: "create events start no build; the push event for the same ref does" };
    case "delete":
      return { kind: "ignore", reason: "delete events build nothing" };
    default:
      return { kind: "ignore", reason: `Kiln does not act on ${event} events` };
  }
}
