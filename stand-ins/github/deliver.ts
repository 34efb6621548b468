// Delivering webhooks the way GitHub does: signed (X-Hub-Signature-256, and the legacy sha1), with
// X-GitHub-Event / X-GitHub-Delivery / X-GitHub-Hook-ID, JSON or form as the hook says, a 10 s timeout,
// no redirects followed, and the outcome recorded so the deliveries API reports failures. A redelivery sends the same request again, same GUID.
import { createHmac, randomUUID } from "node:crypto";
import type { DeliveryRecord, Hook, Repo } from "./model.ts";

const TIMEOUT_MS = 10_000;

export interface DeliveryRequest {
  event: string;
  payload: Record<string, unknown>;
  guid?: string;
  redelivery?: boolean;
}

export function signedRequest(hook: Hook, repo: Repo, request: DeliveryRequest, guid: string) {
  const json = JSON.stringify(request.payload);
  // A hook's content type is "form" unless set to "json" (GitHub's default too): then the JSON is the
  // `payload` field of a form, and the signature covers the form body.
  const form = hook.config.content_type !== "json";
  const body = form ? new URLSearchParams({ payload: json }).toString() : json;
  const headers: Record<string, string> = {
    accept: "*/*",
    "content-type": form ? "application/x-www-form-urlencoded" : "application/json",
    "user-agent": "GitHub-Hookshot/fake",
    "x-github-delivery": guid,
    "x-github-event": request.event,
    "x-github-hook-id": String(hook.id),
    "x-github-hook-installation-target-id": String(repo.id),
    "x-github-hook-installation-target-type": "repository",
  };
  if (hook.config.secret) {
    headers["x-hub-signature"] = `sha1=${createHmac("sha1", hook.config.secret).update(body).digest("hex")}`;
    headers["x-hub-signature-256"] =
      `sha256=${createHmac("sha256", hook.config.secret).update(body).digest("hex")}`;
  }
  return { body, headers };
}

export async function sendDelivery(
  hook: Hook,
  repo: Repo,
  request: DeliveryRequest,
  id: number,
  now: () => Date,
): Promise<DeliveryRecord> {
  const guid = request.guid ?? randomUUID();
  const { body, headers } = signedRequest(hook, repo, request, guid);
  const started = performance.now();
  const action = typeof request.payload.action === "string" ? request.payload.action : null;
  let status_code = 0;
  let status: string;
  let responseHeaders: Record<string, string> = {};
  let responseBody: string | null = null;
  try {
    const response = await fetch(hook.config.url, {
      method: "POST",
      headers,
      body,
      redirect: "manual", // GitHub does not follow redirects: a 3xx is a failed delivery
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    status_code = response.status;
    responseHeaders = Object.fromEntries(response.headers);
    responseBody = await response.text();
    status = response.ok ? "OK" : `Invalid HTTP Response: ${response.status}`;
  } catch (err) {
    status = (err as Error).name === "TimeoutError" ? "timed out" : "failed to connect to host";
  }
  const record: DeliveryRecord = {
    id,
    guid,
    hookId: hook.id,
    event: request.event,
    action,
    delivered_at: now().toISOString(),
    redelivery: request.redelivery === true,
    duration: (performance.now() - started) / 1000,
    status,
    status_code,
    request: { headers, payload: request.payload, body },
    response: { headers: responseHeaders, payload: responseBody },
  };
  hook.last_response = {
    code: status_code || null,
    status: status_code >= 200 && status_code < 300 ? "active" : "failed",
    message: status,
  };
  return record;
}
