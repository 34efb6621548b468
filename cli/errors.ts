// What went wrong, said to a person: the CLI's own refusals (CliError, with their exit code) and the API
// server's or the network's errors in a sentence. Pure.
import { KubeApiError } from "../lib/kube.ts";

/** A failure the command explains itself (not found, forbidden, the build failed …): exit code 1 unless said. */
export class CliError extends Error {
  override name = "CliError";
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** One sentence for an error of a request to the API server at `server`. */
export function explain(error: unknown, server: string): string {
  if (error instanceof CliError) return error.message;
  if (error instanceof KubeApiError) {
    const said = error.body.message?.trim();
    if (error.code === 401)
      return `the API server at ${server} does not accept your credentials (401 Unauthorized): log in again, or check the kubeconfig's user`;
    if (error.code === 403) return said ? said : `forbidden (403): ${error.message}`;
    // A resource type the server does not serve: no details, kube's generic sentence.
    if (error.code === 404 && (!said || said === "the server could not find the requested resource"))
      return `the API server at ${server} does not serve Kiln's resources (builds.kiln.dev): is Kiln installed on this cluster? (kubectl apply -k manifests/)`;
    return said || error.message;
  }
  const e = error as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (code && (NETWORK.has(code) || code.startsWith("ERR_TLS") || code.includes("CERT")))
    return `cannot reach the API server at ${server}: ${e.message ?? code}`;
  return e.message ?? String(error);
}
