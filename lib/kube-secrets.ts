// One key of a Secret, decoded; undefined when the Secret or the key is missing (the caller says which
// condition that is), any other failure thrown.
import type { CoreV1Api } from "@kubernetes/client-node";
import { isNotFound } from "./kube-errors.ts";

export async function readSecretKey(
  core: CoreV1Api,
  namespace: string,
  name: string,
  key: string,
): Promise<string | undefined> {
  try {
    const value = (await core.readNamespacedSecret({ namespace, name })).data?.[key];
    return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
