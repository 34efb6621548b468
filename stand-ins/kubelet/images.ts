// Image references and pull decisions, as pure functions. A reference is normalized the way CRI
// (containerd, via docker's reference rules) names images: `alpine:3` → docker.io/library/alpine:3,
// `kiln` → docker.io/library/kiln:latest, `localhost/kiln:dev` stays. Nothing is ever pulled: a pull
// cannot reach a registry from here, so it fails as it would on a node without network — except
// that an image missing from local storage is stood in for by the host's filesystem (host-mirror
// mode, pod-worker.ts) rather than failing every pod that names a public image.
import { normalizeImage, registryHost } from "../../lib/container/image-ref.ts";

export type PullPolicy = "Always" | "IfNotPresent" | "Never";

/** The API server's default, for a pod that bypassed it. */
export function pullPolicy(image: string, given: string | undefined): PullPolicy {
  if (given === "Always" || given === "IfNotPresent" || given === "Never") return given;
  const name = image.split("@")[0] ?? "";
  const tag = /:([^/]+)$/.exec(name)?.[1];
  return tag === undefined || tag === "latest" ? "Always" : "IfNotPresent";
}

export type ImageDecision =
  /** Run inside the local image. */
  | { mode: "image"; event: string }
  /** Not in local storage: the host filesystem stands in. */
  | { mode: "host"; event: string }
  | { mode: "error"; reason: "ErrImagePull" | "ErrImageNeverPull"; message: string; event: string };

/**
 * What the kubelet's image manager decides for a container: use the local image, or pull — and a
 * pull fails here, as on a node that reaches no registry. An image in local storage with policy
 * Always is therefore ErrImagePull, as on such a node; Kiln's own pods use IfNotPresent.
 */
export function decideImage(image: string, policy: PullPolicy, present: boolean): ImageDecision {
  const host = registryHost(image);
  if (host !== undefined && (host === "invalid" || host.endsWith(".invalid"))) {
    return pullFailure(image, `dial tcp: lookup ${host}: no such host`);
  }
  if (present && policy !== "Always") {
    return { mode: "image", event: `Container image "${image}" already present on machine` };
  }
  if (!present && policy === "Never") {
    const message = `Container image "${image}" is not present with pull policy of Never`;
    return { mode: "error", reason: "ErrImageNeverPull", message, event: message };
  }
  if (present) {
    const full = normalizeImage(image);
    const registry = full.split("/")[0]!;
    const local = registry === "localhost" || registry.startsWith("localhost:");
    return pullFailure(
      image,
      local
        ? `dial tcp 127.0.0.1:${registry.split(":")[1] ?? "443"}: connect: connection refused`
        : `dial tcp: lookup ${registry === "docker.io" ? "registry-1.docker.io" : registry}: no such host`,
    );
  }
  return {
    mode: "host",
    event:
      `Container image "${image}" is not in this node's local container storage: ` +
      "the host's filesystem stands in for it (process kubelet host-mirror mode)",
  };
}

function pullFailure(image: string, cause: string): ImageDecision {
  const full = normalizeImage(image);
  const [registry, ...path] = full.split("/");
  const repo = path.join("/").replace(/[:@][^/]*$/, "");
  const ref = /@/.test(full) ? full.split("@")[1] : (full.split(":").pop() ?? "latest");
  const apiHost = registry === "docker.io" ? "registry-1.docker.io" : registry;
  const message =
    `failed to pull and unpack image "${full}": failed to resolve reference "${full}": ` +
    `failed to do request: Head "https://${apiHost}/v2/${repo}/manifests/${ref}": ${cause}`;
  return {
    mode: "error",
    reason: "ErrImagePull",
    message,
    event: `Failed to pull image "${image}": ${message}`,
  };
}
