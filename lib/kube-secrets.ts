// One key of a Secret, decoded; undefined when the Secret or the key is missing (the caller says which
// condition that is), any other failure thrown.
import type { V1Secret } from "@kubernetes/client-node";
import { type KubeClient, resourcePath } from "./kube.ts";
import { isNotFound } from "./kube-errors.ts";

export async function readSecretKey(
  client: KubeClient,
  namespace: string,
  name: string,
  key: string,
): Promise<string | undefined> {
  try {
    const value = (await client.get<V1Secret>(resourcePath("v1", "secrets", namespace, name))).data?.[key];
    return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
