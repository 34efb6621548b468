// Image references named as CRI (containerd, via docker's reference rules) names them: `alpine:3` →
// docker.io/library/alpine:3, `kiln` → docker.io/library/kiln:latest, `localhost/kiln:dev` stays.

/** The registry host of an image reference, when it names one (docker's rule: a first component with "." or ":", or localhost). */
export function registryHost(image: string): string | undefined {
  const first = image.split("/")[0] ?? "";
  if (!image.includes("/")) return undefined;
  if (first.includes(".") || first.includes(":") || first === "localhost") return first.replace(/:\d+$/, "");
  return undefined;
}

const ID = /^(sha256:)?[0-9a-f]{64}$/;

/** The fully qualified name containers-storage and containerd know an image by; an image ID stays as is. */
export function normalizeImage(image: string): string {
  if (ID.test(image)) return image.replace(/^sha256:/, "");
  const host = registryHost(image);
  let domain = "docker.io";
  let rest = image;
  if (host !== undefined) {
    domain = image.split("/")[0]!;
    rest = image.slice(domain.length + 1);
  }
  if (domain === "index.docker.io") domain = "docker.io";
  if (domain === "docker.io" && !rest.includes("/")) rest = `library/${rest}`;
  const [name, digest] = rest.split("@") as [string, string | undefined];
  const tagged = /:[^/]+$/.test(name);
  if (digest !== undefined) return `${domain}/${name}@${digest}`;
  return `${domain}/${name}${tagged ? "" : ":latest"}`;
}
