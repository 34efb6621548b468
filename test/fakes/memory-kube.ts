// The one in-memory Kubernetes for unit tests: Builds and Repositories with resourceVersions, 409s as
// the API server sends them (a KubeApiError with reason Conflict or AlreadyExists, so isConflict and
// isAlreadyExists tell them apart as in production), JSON merge patch (RFC 7386), finalizer-gated
// deletion, Secrets, pod logs, and a log of every write. It answers as the ReportingApi and as the
// Kubernetes side of the repository controller's RepositoryDeps.
import type { Build, BuildInput } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import type { ReportingApi } from "../../controllers/reporting/kube.ts";
import type { RepositoryDeps } from "../../controllers/repository/deps.ts";
import { gitHubClient } from "../../controllers/repository/github.ts";
import { GitHubClients } from "../../lib/github.ts";
import { KubeApiError } from "../../lib/kube.ts";
import { silentLogger } from "../../lib/log.ts";
import { mergePatch } from "../../stand-ins/apiserver/patch.ts";

const apiError = (code: number, reason: string, what: string) =>
  new KubeApiError(code, { kind: "Status", status: "Failure", reason, code, message: what }, what);

type Stored = Build | Repository;
type Kind = Stored["kind"];

export class MemoryKube implements ReportingApi {
  readonly writes: { kind: string; name: string; patch: object }[] = [];
  /** Secrets by "namespace/name", their values decoded. */
  readonly secrets = new Map<string, Record<string, string>>();
  /** Pod logs by "namespace/pod/container". */
  readonly logs = new Map<string, string>();
  /** Make the next writes fail (an API server outage). */
  failWrites = 0;
  #objects = new Map<string, Stored>();
  #rv = 1;
  readonly #github = new GitHubClients({
    log: silentLogger(),
    retries: 0,
    retryAfterBaseValue: 1,
    writeSpacingMs: 1,
  });

  /** Stores an object as it is (a new resourceVersion; `edit` also moves the generation, as a spec change). */
  put<T extends Stored>(object: T, options: { edit?: boolean } = {}): T {
    const stored = structuredClone(object);
    stored.metadata.namespace ??= "default";
    stored.metadata.resourceVersion = String(++this.#rv);
    stored.metadata.uid ??= `uid-${stored.metadata.name}`;
    stored.metadata.creationTimestamp ??= new Date().toISOString();
    if (options.edit) stored.metadata.generation = (stored.metadata.generation ?? 0) + 1;
    this.#objects.set(this.#key(stored.kind, stored.metadata.namespace, stored.metadata.name!), stored);
    return structuredClone(stored);
  }

  #key(kind: Kind, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }

  #stored<T extends Stored>(kind: Kind, namespace: string, name: string): T {
    const found = this.#objects.get(this.#key(kind, namespace, name));
    if (!found) throw apiError(404, "NotFound", this.#key(kind, namespace, name));
    return found as T;
  }

  has(kind: Kind, namespace: string, name: string): boolean {
    return this.#objects.has(this.#key(kind, namespace, name));
  }

  list<K extends Kind>(kind: K, namespace?: string): Extract<Stored, { kind: K }>[] {
    return [...this.#objects.values()]
      .filter(
        (o): o is Extract<Stored, { kind: K }> =>
          o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace),
      )
      .map((o) => structuredClone(o));
  }

  build(name: string, namespace = "default"): Build {
    return structuredClone(this.#stored<Build>("Build", namespace, name));
  }

  repository(name: string, namespace = "default"): Repository {
    return structuredClone(this.#stored<Repository>("Repository", namespace, name));
  }

  /** Changes status as the build controller would (no precondition). */
  setPhase(name: string, status: Build["status"]): Build {
    const build = this.build(name);
    build.status = { ...build.status, ...status };
    return this.put(build);
  }

  /** kubectl delete: a deletionTimestamp while finalizers remain, gone once they are removed. */
  delete(kind: Kind, namespace: string, name: string): void {
    const current = this.#stored(kind, namespace, name);
    if ((current.metadata.finalizers ?? []).length === 0)
      this.#objects.delete(this.#key(kind, namespace, name));
    else
      this.put({
        ...current,
        metadata: { ...current.metadata, deletionTimestamp: new Date().toISOString() },
      });
  }

  #write(kind: Kind, namespace: string, name: string, patch: object, what: "status" | "object"): Stored {
    if (this.failWrites > 0) {
      this.failWrites--;
      throw new Error("connect ECONNREFUSED 127.0.0.1:6443");
    }
    const current = this.#stored(kind, namespace, name);
    const { metadata, status, ...rest } = patch as { metadata?: Record<string, unknown>; status?: unknown };
    const wanted = metadata?.resourceVersion;
    if (wanted !== undefined && wanted !== current.metadata.resourceVersion)
      throw apiError(409, "Conflict", this.#key(kind, namespace, name));
    this.writes.push({ kind, name, patch });
    const { resourceVersion: _rv, ...meta } = metadata ?? {};
    const next =
      what === "status"
        ? { ...current, status: mergePatch(current.status, status) }
        : { ...(mergePatch(current, { ...rest, metadata: meta }) as Stored), status: current.status };
    // As the API server: the last finalizer removed from an object being deleted deletes it.
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.#objects.delete(this.#key(kind, namespace, name));
      return structuredClone(next as Stored);
    }
    return this.put(next as Stored);
  }

  // ---- ReportingApi ----

  getBuild = async (namespace: string, name: string) =>
    this.has("Build", namespace, name) ? this.build(name, namespace) : undefined;
  listBuilds = async (namespace: string) => this.list("Build", namespace);
  getRepository = async (namespace: string, name: string) =>
    this.has("Repository", namespace, name) ? this.repository(name, namespace) : undefined;
  listRepositories = async (namespace?: string) => this.list("Repository", namespace);
  patchBuildStatus = async (namespace: string, name: string, patch: object) =>
    this.#write("Build", namespace, name, patch, "status") as Build;
  patchRepositoryStatus = async (namespace: string, name: string, patch: object) =>
    this.#write("Repository", namespace, name, patch, "status") as Repository;
  patchBuild = async (namespace: string, name: string, patch: object) =>
    this.#write("Build", namespace, name, patch, "object") as Build;

  createBuild = async (namespace: string, build: BuildInput): Promise<"created" | "exists"> => {
    if (this.has("Build", namespace, build.metadata.name!)) return "exists";
    this.put({ ...build, metadata: { ...build.metadata, namespace } } as Build);
    return "created";
  };

  readSecretKey = async (namespace: string, name: string, key: string) =>
    this.secrets.get(`${namespace}/${name}`)?.[key];

  podLogTail = async (namespace: string, pod: string, container: string, lines: number) => {
    const log = this.logs.get(`${namespace}/${pod}/${container}`);
    if (log === undefined) throw apiError(404, "NotFound", `pods/log ${namespace}/${pod}/${container}`);
    return log
      .split("\n")
      .slice(-lines - 1)
      .join("\n");
  };

  // ---- the repository controller's dependencies ----

  repositoryDeps(overrides: Partial<RepositoryDeps> = {}): RepositoryDeps {
    return {
      getRepository: (namespace, name) =>
        this.has("Repository", namespace, name) ? this.repository(name, namespace) : undefined,
      listBuilds: (namespace, repository) =>
        this.list("Build", namespace).filter((b) => b.spec.repository === repository),
      readSecretKey: this.readSecretKey,
      patchMetadata: async (namespace, name, metadata) =>
        this.#write("Repository", namespace, name, { metadata }, "object") as Repository,
      patchStatus: async (namespace, name, resourceVersion, status) => {
        this.#write("Repository", namespace, name, { metadata: { resourceVersion }, status }, "status");
      },
      createBuild: (build: BuildInput) => this.createBuild(build.metadata.namespace ?? "default", build),
      gitHub: (target) => gitHubClient(target, this.#github),
      now: () => Date.now(),
      log: silentLogger(),
      intervalMs: 60_000,
      graceMs: 0,
      ...overrides,
    };
  }
}
