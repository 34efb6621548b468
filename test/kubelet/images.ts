// Images are never pulled, but a reference that no registry could serve fails as it would on a
// real node: a registry host under the reserved `.invalid` top-level domain (RFC 6761) cannot
// resolve, so such an image gives ErrImagePull, then ImagePullBackOff. Tests use it to drive a
// pod that cannot start.

export type PullResult = { ok: true } | { ok: false; message: string };

/** The registry host of an image reference, when it names one (docker's rule: a first component with "." or ":", or localhost). */
export function registryHost(image: string): string | undefined {
  const first = image.split("/")[0] ?? "";
  if (!image.includes("/")) return undefined;
  if (first.includes(".") || first.includes(":") || first === "localhost") return first.replace(/:\d+$/, "");
  return undefined;
}

export function pullImage(image: string | undefined): PullResult {
  const host = registryHost(image ?? "");
  if (host !== undefined && (host === "invalid" || host.endsWith(".invalid"))) {
    return {
      ok: false,
      message:
        `failed to pull and unpack image "${image}": failed to resolve reference "${image}": ` +
        `failed to do request: Head "https://${host}/v2/": dial tcp: lookup ${host}: no such host`,
    };
  }
  return { ok: true };
}
