// Kubeconfig files for the test cluster: one cluster (the server URL + its CA), one admin user with a
// bearer token, one context with a default namespace.
import { chmod, writeFile } from "node:fs/promises";
import { stringify } from "yaml";

export interface KubeconfigInput {
  server: string;
  caPem: string;
  token: string;
  namespace?: string;
  name?: string;
}

export function kubeconfigYaml(input: KubeconfigInput): string {
  const name = input.name ?? "kiln-test";
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name,
        cluster: {
          server: input.server,
          "certificate-authority-data": Buffer.from(input.caPem).toString("base64"),
        },
      },
    ],
    users: [{ name: `${name}-admin`, user: { token: input.token } }],
    contexts: [
      { name, context: { cluster: name, user: `${name}-admin`, namespace: input.namespace ?? "default" } },
    ],
    "current-context": name,
    preferences: {},
  });
}

/** Written with mode 0600: it holds the admin token. */
export async function writeKubeconfig(path: string, input: KubeconfigInput): Promise<void> {
  // writeFile's mode applies only to a new file: an existing one (a reused --kubeconfig) keeps its own.
  await chmod(path, 0o600).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
  await writeFile(path, kubeconfigYaml(input), { mode: 0o600 });
}
