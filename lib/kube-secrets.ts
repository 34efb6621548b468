// Secrets, read one by name (never listed): a missing Secret (or key) is "not there", undefined, and
// the caller says which condition that is; any other failure is thrown.
import type { V1Secret } from "@kubernetes/client-node";
import { type KubeClient, resourcePath } from "./kube.ts";
import { orUndefined } from "./kube-objects.ts";

/** The Secret's data, base64 values as stored; undefined when there is no such Secret. */
export async function readSecret(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<Record<string, string> | undefined> {
  const secret = await orUndefined(client.get<V1Secret>(resourcePath("v1", "secrets", namespace, name)));
  return secret && (secret.data ?? {});
}

/** One key of a Secret, decoded. */
export async function readSecretKey(
  client: KubeClient,
  namespace: string,
  name: string,
  key: string,
): Promise<string | undefined> {
  const value = (await readSecret(client, namespace, name))?.[key];
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
}
