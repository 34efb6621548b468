// An in-memory stand-in for the Kubernetes side of RepositoryDeps (tests only): Repositories with
// resourceVersion conflicts and finalizer-gated deletion, Builds with AlreadyExists, Secrets.
import type { Build, BuildInput } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import type { RepositoryDeps } from "../../controllers/repository/deps.ts";
import { gitHubClient } from "../../controllers/repository/github.ts";
import { GitHubClients } from "../../lib/github.ts";
import { silentLogger } from "../../lib/log.ts";
import { mergePatch } from "../apiserver/patch.ts";

export class MemoryKube {
  repositories = new Map<string, Repository>();
  builds = new Map<string, Build>();
  secrets = new Map<string, Record<string, string>>();
  #rv = 1;
  readonly #github = new GitHubClients({
    log: silentLogger(),
    retries: 0,
    retryAfterBaseValue: 1,
    writeSpacingMs: 1,
  });

  put(repository: Repository): Repository {
    const copy = structuredClone(repository);
    copy.metadata.resourceVersion = String(this.#rv++);
    copy.metadata.generation = (copy.metadata.generation ?? 0) + 1;
    copy.metadata.creationTimestamp ??= new Date().toISOString();
    this.repositories.set(`${copy.metadata.namespace}/${copy.metadata.name}`, copy);
    return copy;
  }

  get(namespace: string, name: string): Repository {
    const repository = this.repositories.get(`${namespace}/${name}`);
    if (!repository) throw new Error(`no Repository ${namespace}/${name}`);
    return repository;
  }

  /** kubectl delete: a deletionTimestamp while finalizers remain, gone once they are removed. */
  delete(namespace: string, name: string): void {
    const repository = this.get(namespace, name);
    if ((repository.metadata.finalizers ?? []).length === 0) this.repositories.delete(`${namespace}/${name}`);
    else {
      repository.metadata.deletionTimestamp = new Date().toISOString();
      repository.metadata.resourceVersion = String(this.#rv++);
    }
  }

  #conflict(current: Repository, resourceVersion: unknown): void {
    if (resourceVersion !== undefined && resourceVersion !== current.metadata.resourceVersion) {
      throw Object.assign(new Error("Conflict"), { code: 409 });
    }
  }

  deps(overrides: Partial<RepositoryDeps> = {}): RepositoryDeps {
    return {
      getRepository: (namespace, name) => structuredClone(this.repositories.get(`${namespace}/${name}`)),
      listBuilds: (namespace, repository) =>
        [...this.builds.values()].filter(
          (b) => b.metadata.namespace === namespace && b.spec.repository === repository,
        ),
      readSecretKey: async (namespace, name, key) => this.secrets.get(`${namespace}/${name}`)?.[key],
      patchMetadata: async (namespace, name, metadata) => {
        const current = this.get(namespace, name);
        this.#conflict(current, metadata.resourceVersion);
        const {
          resourceVersion: _rv,
          annotations,
          ...rest
        } = metadata as { resourceVersion?: string; annotations?: Record<string, string> };
        Object.assign(current.metadata, rest);
        if (annotations) current.metadata.annotations = { ...current.metadata.annotations, ...annotations };
        current.metadata.resourceVersion = String(this.#rv++);
        if (current.metadata.deletionTimestamp && (current.metadata.finalizers ?? []).length === 0) {
          this.repositories.delete(`${namespace}/${name}`);
        }
        return structuredClone(current);
      },
      patchStatus: async (namespace, name, resourceVersion, status) => {
        const current = this.get(namespace, name);
        this.#conflict(current, resourceVersion);
        current.status = mergePatch(current.status, status) as Repository["status"];
        current.metadata.resourceVersion = String(this.#rv++);
      },
      createBuild: async (build: BuildInput) => {
        const key = `${build.metadata.namespace}/${build.metadata.name}`;
        if (this.builds.has(key)) return "exists";
        this.builds.set(key, structuredClone(build) as Build);
        return "created";
      },
      gitHub: (target) => gitHubClient(target, this.#github),
      now: () => Date.now(),
      log: silentLogger(),
      intervalMs: 60_000,
      graceMs: 0,
      ...overrides,
    };
  }
}
