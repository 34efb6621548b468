// Webhook secrets, read from Kubernetes Secrets and cached briefly (a Secret read per delivery would
// cost more than the rest of the delivery). A cache miss on verification reads again, so a rotated
// secret takes effect at once. During rotation keep the old secret under "<key>.previous".

import type { Repository } from "../api/repository.ts";
import { UnavailableError } from "../lib/http-error.ts";
import type { KubeClient } from "../lib/kube.ts";
import { httpStatus, isTransient } from "../lib/kube-errors.ts";
import { readSecret } from "../lib/kube-secrets.ts";
import type { SecretSource } from "./deps.ts";

export const PREVIOUS_SUFFIX = ".previous";
const FRESH_MIN_MS = 1000;

export interface SecretReader {
  /** The Secret's data (base64 values), or undefined when it does not exist. */
  read(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

export function kubeSecretReader(client: KubeClient): SecretReader {
  return {
    async read(namespace, name) {
      try {
        return await readSecret(client, namespace, name);
      } catch (err) {
        if (isTransient(err))
          throw new UnavailableError("the Kubernetes API is unavailable; try again", { cause: err });
        // The webhook reads only the Secrets its Role in that namespace names, and the controller writes that
        // Role when it sees the Repository: a delivery for a Repository just created may come first. GitHub
        // (and the controller's redelivery) retry a 503.
        if (httpStatus(err) === 403)
          throw new UnavailableError(
            `not allowed to read Secret ${namespace}/${name} yet (Kiln's controller grants it for each Repository's webhook secret); try again`,
            { cause: err },
          );
        throw err;
      }
    },
  };
}

export function cachedSecretSource(
  reader: SecretReader,
  options: { ttlMs: number; now: () => number },
): SecretSource {
  const cache = new Map<string, { at: number; secrets: string[] }>();
  return {
    async webhookSecrets(repository: Repository, { fresh = false } = {}) {
      const ref = repository.spec.webhook?.secretRef;
      const namespace = repository.metadata.namespace ?? "default";
      if (!ref) return [];
      const key = `${namespace}/${ref.name}/${ref.key}`;
      const hit = cache.get(key);
      // Even a fresh read is skipped within a second of the last one, so a flood of forged
      // signatures cannot turn into a flood of Secret reads.
      if (hit && options.now() - hit.at < (fresh ? FRESH_MIN_MS : options.ttlMs)) return hit.secrets;
      const data = await reader.read(namespace, ref.name);
      const secrets = [data?.[ref.key], data?.[`${ref.key}${PREVIOUS_SUFFIX}`]]
        .filter((value): value is string => value !== undefined)
        .map((value) => Buffer.from(value, "base64").toString("utf8"));
      cache.set(key, { at: options.now(), secrets });
      return secrets;
    },
  };
}
