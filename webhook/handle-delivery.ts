// One delivery, in the order that keeps it safe: headers → body (capped) → the Repository the hook URL
// names, verified with its secret → parse → find the Repositories watching the payload's repository
// (verified now when the URL named none) → decide (pure) → create the Build.
import type { IncomingMessage } from "node:http";
import { repositoryParam } from "../api/hook-url.ts";
import type { Repository } from "../api/repository.ts";
import { HttpError } from "../lib/http-error.ts";
import { readBody } from "../lib/read-body.ts";
import type { WebhookDeps } from "./deps.ts";
import { decodeBody, parsePayload } from "./parse-payload.ts";
import { anyEvent } from "./payloads.ts";
import { type Decision, routeEvent } from "./route-event.ts";
import { isWellFormedSignature, verifySignature } from "./verify-signature.ts";

export interface DeliveryResult {
  status: number;
  body: { message: string; builds?: string[]; ignored?: string[] };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function verifiedRepositories(
  candidates: Repository[],
  text: string,
  signature: string,
  deps: WebhookDeps,
): Promise<Repository[]> {
  const matching: Repository[] = [];
  for (const repository of candidates) {
    let ok = await verifySignature(await deps.secrets.webhookSecrets(repository), text, signature);
    // A miss may be a rotated secret the cache has not seen yet: look once more, bypassing it.
    if (!ok)
      ok = await verifySignature(
        await deps.secrets.webhookSecrets(repository, { fresh: true }),
        text,
        signature,
      );
    if (ok) matching.push(repository);
  }
  return matching;
}

/** A hook registered by Kiln names its Repository in the URL; only that one is meant. */
function narrow(
  candidates: Repository[],
  named: { namespace: string; name: string } | undefined,
): Repository[] {
  if (!named) return candidates;
  return candidates.filter((r) => r.metadata.namespace === named.namespace && r.metadata.name === named.name);
}

export async function handleDelivery(req: IncomingMessage, deps: WebhookDeps): Promise<DeliveryResult> {
  // Stamped on arrival: orders two pushes to a branch that GitHub's push chain does not link.
  const receivedAt = new Date((deps.now ?? Date.now)()).toISOString();
  const event = header(req, "x-github-event");
  const delivery = header(req, "x-github-delivery");
  if (!event) throw new HttpError(400, "missing X-GitHub-Event header");
  if (!delivery) throw new HttpError(400, "missing X-GitHub-Delivery header");
  const signature = header(req, "x-hub-signature-256");
  if (!isWellFormedSignature(signature)) {
    throw new HttpError(401, "missing or malformed X-Hub-Signature-256; set a secret on the webhook");
  }
  const raw = await readBody(req, deps.maxBodyBytes);
  const text = decodeBody(raw);
  const named = repositoryParam(req.url);
  if (named) {
    // A hook registered by Kiln names its Repository, so its secret is known before the payload is
    // read: a forged delivery costs one HMAC, not the parse of up to 25 MB of JSON.
    const repository = deps.repositories.named(named.namespace, named.name);
    if (!repository) throw new HttpError(404, `no Repository ${named.namespace}/${named.name}`);
    if ((await verifiedRepositories([repository], text, signature, deps)).length === 0) {
      throw new HttpError(
        401,
        `signature does not match the webhook secret of ${named.namespace}/${named.name}`,
      );
    }
  }
  const payload = parsePayload(text, header(req, "content-type"));
  const parsed = anyEvent.safeParse(payload);
  if (!parsed.success) throw new HttpError(400, "payload is not a JSON object with a valid repository");
  const repo = parsed.data.repository;
  if (repo === undefined) {
    // Organization and app hooks name no repository; Kiln registers one hook per repository.
    return {
      status: 202,
      body: { message: `${event} names no repository; Kiln acts on repository hooks only` },
    };
  }
  const candidates = narrow(deps.repositories.find(repo.owner.login, repo.name), named);
  // 404, not 202: a hook pointing at Kiln for a repository no Repository watches is a misconfiguration,
  // and GitHub's delivery log should show it red with the reason rather than a quiet success. (It tells
  // an unauthenticated caller whether a repository is registered; its name is no secret.)
  if (candidates.length === 0) {
    throw new HttpError(404, `no Repository watches ${repo.full_name}`);
  }
  const verified = named ? candidates : await verifiedRepositories(candidates, text, signature, deps);
  if (verified.length === 0)
    throw new HttpError(401, `signature does not match the webhook secret of ${repo.full_name}`);

  // Plain fields rather than a child logger per delivery: a child costs more than the rest of the log call.
  const about = { delivery, event, repository: repo.full_name };
  const decisions: Decision[] = verified.map((repository) =>
    routeEvent(event, payload, repository, delivery, receivedAt),
  );
  const builds: string[] = [];
  const existing: string[] = [];
  const ignored: string[] = [];
  for (const decision of decisions) {
    if (decision.kind === "build") {
      const name = decision.build.metadata.name!;
      const outcome = await deps.builds.create(decision.build);
      (outcome === "created" ? builds : existing).push(name);
      deps.log.info(
        { ...about, build: name, namespace: decision.build.metadata.namespace, outcome },
        "build",
      );
    } else if (decision.kind === "ignore") {
      ignored.push(decision.reason);
    }
  }
  if (decisions.every((d) => d.kind === "pong")) return { status: 200, body: { message: "pong" } };
  if (builds.length > 0)
    return { status: 201, body: { message: "build created", builds: [...builds, ...existing] } };
  if (existing.length > 0)
    return { status: 200, body: { message: "build already exists", builds: existing } };
  deps.log.info({ ...about, ignored }, "ignored");
  return { status: 202, body: { message: `ignored: ${ignored.join("; ")}`, ignored } };
}
