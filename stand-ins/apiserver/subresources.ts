// Subresources beyond status: pods/log (streams from the process kubelet), serviceaccounts/token
// (TokenRequest) and namespaces/finalize (pods/eviction is in eviction.ts).
import type { Readable } from "node:stream";
import { ApiError, badRequest, notFound } from "./errors.ts";
import { dryRun, type HandlerDeps, type SubresourceHandler } from "./handlers.ts";
import { readObject, sendJSON } from "./http-io.ts";
import { timestamp } from "./object-meta.ts";
import type { Objects } from "./objects.ts";
import type { KubeObject } from "./storage.ts";
import { ISSUER, type Tokens } from "./tokens.ts";

export interface PodLogOptions {
  follow: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps?: boolean;
  previous?: boolean;
}

export type PodLogSource = (
  namespace: string,
  pod: string,
  container: string,
  options: PodLogOptions,
) => Readable | undefined;

function intParam(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === "") return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw badRequest(`${name}: Invalid value: "${text}": must be a non-negative integer`);
  return n;
}

const bool = (query: URLSearchParams, name: string) => ["1", "true"].includes(query.get(name) ?? "");

export function subresourceHandlers(
  objects: Objects,
  tokens: Tokens,
  podLogs: () => PodLogSource | undefined,
): HandlerDeps["subresources"] {
  const log: SubresourceHandler = async (_req, res, t, info, url) => {
    if (info.verb !== "get") throw badRequest("pods/log only supports GET");
    const pod = objects.get(t, info.namespace, info.name!);
    const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[] };
    const all = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c) => c.name);
    let container = url.searchParams.get("container") ?? "";
    if (!container) {
      const main = (spec.containers ?? []).map((c) => c.name);
      const annotated = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
      if (annotated && main.includes(annotated)) container = annotated;
      else if (main.length === 1) container = main[0]!;
      else
        throw badRequest(
          `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${main.join(" ")}]`,
        );
    }
    if (!all.includes(container))
      throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
    const options: PodLogOptions = {
      follow: bool(url.searchParams, "follow"),
      tailLines: intParam(url.searchParams, "tailLines"),
      sinceSeconds: intParam(url.searchParams, "sinceSeconds"),
      timestamps: bool(url.searchParams, "timestamps"),
      previous: bool(url.searchParams, "previous"),
    };
    const stream = podLogs()?.(info.namespace!, pod.metadata.name!, container, options);
    if (!stream) {
      const reason =
        (pod.status as { phase?: string } | undefined)?.phase === "Pending"
          ? "ContainerCreating"
          : "no logs available";
      throw badRequest(
        `container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${reason}`,
      );
    }
    res.writeHead(200, { "content-type": "text/plain", "cache-control": "no-cache, private" });
    const close = () => stream.destroy();
    res.on("close", close);
    stream.on("error", () => res.end());
    stream.on("end", () => res.end());
    // Backpressure: a slow reader of a long log pauses the source instead of buffering it all here.
    stream.on("data", (chunk: Buffer) => {
      if (res.write(chunk)) return;
      stream.pause();
      res.once("drain", () => stream.resume());
    });
  };

  const token: SubresourceHandler = async (req, res, t, info, url) => {
    if (info.verb !== "create") throw badRequest("serviceaccounts/token only supports POST");
    const sa = objects.get(t, info.namespace, info.name!);
    const body = ((await readObject(req)) ?? {}) as {
      apiVersion?: string;
      kind?: string;
      metadata?: Record<string, unknown>;
      spec?: {
        audiences?: string[];
        expirationSeconds?: number;
        boundObjectRef?: { kind?: string; name?: string; uid?: string };
      };
    };
    const spec = body.spec ?? {};
    const expirationSeconds = spec.expirationSeconds ?? 3600;
    if (!Number.isInteger(expirationSeconds) || expirationSeconds < 600) {
      throw badRequest(
        `spec.expirationSeconds: Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`,
      );
    }
    let pod: { name: string; uid: string } | undefined;
    const ref = spec.boundObjectRef;
    if (ref?.kind === "Pod" && ref.name) {
      const bound = objects.find(objects.registry.find("", "v1", "pods")!, info.namespace, ref.name);
      if (!bound || (ref.uid && bound.metadata.uid !== ref.uid))
        throw notFound({ group: "", resource: "pods", name: ref.name });
      pod = { name: ref.name, uid: bound.metadata.uid! };
    }
    const now = objects.env.now();
    const issuedAt = Math.floor(now.getTime() / 1000);
    const audiences = spec.audiences && spec.audiences.length > 0 ? spec.audiences : [ISSUER];
    const tokenText = dryRun(url.searchParams)
      ? ""
      : tokens.issue({
          namespace: info.namespace!,
          name: sa.metadata.name!,
          uid: sa.metadata.uid!,
          audiences,
          issuedAt,
          expiresAt: issuedAt + expirationSeconds,
          pod,
        });
    sendJSON(res, 201, {
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { name: sa.metadata.name, namespace: info.namespace, creationTimestamp: null },
      spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
      status: {
        token: tokenText,
        expirationTimestamp: timestamp(new Date((issuedAt + expirationSeconds) * 1000)),
      },
    });
  };

  const finalize: SubresourceHandler = async (req, res, t, info) => {
    if (info.verb !== "update") throw badRequest("namespaces/finalize only supports PUT");
    const body = (await readObject(req)) as KubeObject | undefined;
    const current = objects.get(t, undefined, info.name!);
    const next = {
      ...current,
      spec: {
        ...(current.spec as object),
        finalizers: (body?.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [],
      },
    };
    const stored = objects.store.update(t.collection, next);
    sendJSON(res, 200, stored);
  };

  const binding: SubresourceHandler = async (req, res, t, info) => {
    if (info.verb !== "create") throw badRequest("pods/binding only supports POST");
    const body = ((await readObject(req)) ?? {}) as { target?: { kind?: string; name?: string } };
    const node = body.target?.name;
    if (!node || (body.target?.kind ?? "Node") !== "Node") {
      throw badRequest("binding target must be a Node with a name");
    }
    const stored = objects.store.collection(t.collection).get(info.namespace, info.name!);
    if (!stored) throw notFound(objects.target(t, info.name));
    const spec = (stored.spec ?? {}) as { nodeName?: string };
    if (spec.nodeName) {
      throw new ApiError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on pods/binding "${info.name}": pod ${info.name} is already assigned to node "${spec.nodeName}"`,
        {
          name: info.name,
          kind: "pods/binding",
        },
      );
    }
    if (stored.metadata.deletionTimestamp)
      throw badRequest(`pod ${info.name} is being deleted, cannot be assigned to a host`);
    const status = (stored.status ?? {}) as { conditions?: { type: string }[] };
    const conditions = (status.conditions ?? []).filter((c) => c.type !== "PodScheduled");
    conditions.push({
      type: "PodScheduled",
      status: "True",
      lastProbeTime: null,
      lastTransitionTime: timestamp(objects.env.now()),
    } as never);
    objects.store.update(t.collection, {
      ...stored,
      spec: { ...spec, nodeName: node },
      status: { ...status, conditions },
    });
    sendJSON(res, 201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
  };

  const exec: SubresourceHandler = async () => {
    throw badRequest(
      "Upgrade request required: pods/exec is served over a WebSocket (v5.channel.k8s.io, v4.channel.k8s.io) or SPDY/3.1 (v4.channel.k8s.io)",
    );
  };

  return {
    "/pods/exec": exec,
    "/pods/binding": binding,
    "/pods/log": log,
    "/serviceaccounts/token": token,
    "/namespaces/finalize": finalize,
  };
}
