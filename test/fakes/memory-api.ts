// An in-memory ReportingApi for tests: resourceVersions, 409 on a stale precondition and JSON merge
// patch (RFC 7386) like the API server, and a log of every status write.
import type { Build, BuildInput } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import type { ReportingApi } from "../../controllers/reporting/kube.ts";
import { KubeApiError } from "../../lib/kube.ts";
import { mergePatch } from "../apiserver/patch.ts";

// The error lib/kube.ts throws for a real server, Status body included, so isConflict and
// isAlreadyExists tell the two 409s apart here as they do in production.
const apiError = (code: number, reason: string, what: string) =>
  new KubeApiError(code, { kind: "Status", status: "Failure", reason, code, message: what }, what);

type Stored = Build | Repository;

export class MemoryApi implements ReportingApi {
  readonly writes: { kind: string; name: string; patch: object }[] = [];
  readonly secrets = new Map<string, string>();
  readonly logs = new Map<string, string>();
  #objects = new Map<string, Stored>();
  #rv = 1;
  /** Make the next status writes fail (simulating an API server outage). */
  failWrites = 0;

  put<T extends Stored>(object: T): T {
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(++this.#rv);
    stored.metadata.uid ??= `uid-${stored.metadata.name}`;
    this.#objects.set(
      `${stored.kind}/${stored.metadata.namespace ?? "default"}/${stored.metadata.name}`,
      stored,
    );
    return structuredClone(stored);
  }

  build(name: string, namespace = "default"): Build {
    return structuredClone(this.#objects.get(`Build/${namespace}/${name}`) as Build);
  }

  repository(name: string, namespace = "default"): Repository {
    return structuredClone(this.#objects.get(`Repository/${namespace}/${name}`) as Repository);
  }

  /** Changes status as the build controller would (no precondition). */
  setPhase(name: string, status: Build["status"]): Build {
    const build = this.build(name);
    build.status = { ...build.status, ...status };
    return this.put(build);
  }

  async getBuild(namespace: string, name: string) {
    const found = this.#objects.get(`Build/${namespace}/${name}`);
    return found ? (structuredClone(found) as Build) : undefined;
  }

  async listBuilds(namespace: string) {
    return [...this.#objects.values()]
      .filter((o): o is Build => o.kind === "Build" && (o.metadata.namespace ?? "default") === namespace)
      .map((o) => structuredClone(o));
  }

  async getRepository(namespace: string, name: string) {
    const found = this.#objects.get(`Repository/${namespace}/${name}`);
    return found ? (structuredClone(found) as Repository) : undefined;
  }

  async listRepositories(namespace?: string) {
    return [...this.#objects.values()]
      .filter(
        (o): o is Repository => o.kind === "Repository" && (!namespace || o.metadata.namespace === namespace),
      )
      .map((o) => structuredClone(o));
  }

  async patchBuildStatus(namespace: string, name: string, patch: object) {
    return this.#patch("Build", namespace, name, patch) as Promise<Build>;
  }

  async patchRepositoryStatus(namespace: string, name: string, patch: object) {
    return this.#patch("Repository", namespace, name, patch) as Promise<Repository>;
  }

  async patchBuild(namespace: string, name: string, patch: object) {
    const key = `Build/${namespace}/${name}`;
    const current = this.#objects.get(key);
    if (!current) throw apiError(404, "NotFound", key);
    this.writes.push({ kind: "Build", name, patch });
    const { status: _ignored, ...rest } = patch as { status?: unknown };
    return this.put({ ...(mergePatch(current, rest) as Stored), status: current.status }) as Build;
  }

  async createBuild(namespace: string, build: BuildInput) {
    const key = `Build/${namespace}/${build.metadata.name}`;
    if (this.#objects.has(key)) return "exists" as const;
    this.put({ ...build, metadata: { ...build.metadata, namespace } } as Build);
    return "created" as const;
  }

  async readSecretKey(namespace: string, name: string, key: string) {
    return this.secrets.get(`${namespace}/${name}/${key}`);
  }

  async podLogTail(namespace: string, pod: string, container: string, lines: number) {
    const log = this.logs.get(`${namespace}/${pod}/${container}`);
    if (log === undefined) throw apiError(404, "NotFound", `pods/log ${namespace}/${pod}/${container}`);
    return log
      .split("\n")
      .slice(-lines - 1)
      .join("\n");
  }

  async #patch(kind: string, namespace: string, name: string, patch: object): Promise<Stored> {
    if (this.failWrites > 0) {
      this.failWrites--;
      throw new Error("connect ECONNREFUSED 127.0.0.1:6443");
    }
    const key = `${kind}/${namespace}/${name}`;
    const current = this.#objects.get(key);
    if (!current) throw apiError(404, "NotFound", key);
    const { metadata, status } = patch as { metadata?: { resourceVersion?: string }; status?: unknown };
    if (
      metadata?.resourceVersion !== undefined &&
      metadata.resourceVersion !== current.metadata.resourceVersion
    ) {
      throw apiError(409, "Conflict", key);
    }
    this.writes.push({ kind, name, patch });
    const next = { ...current, status: mergePatch(current.status, status) } as Stored;
    return this.put(next);
  }
}
