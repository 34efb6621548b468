// The Builds the build pages show, from the controller runtime's supervised informer (the same mechanism as
// the webhook's Repository index): each Build parsed once as it arrives or changes, and kept in its
// repository's newest-first list (sorted-builds.ts). Pages wait on changes of one Build to follow it.
import type { KubernetesObject } from "@kubernetes/client-node";
import { type Build, build as buildSchema } from "../../api/build.ts";
import { API_VERSION, RESOURCES } from "../../api/group.ts";
import { UnavailableError } from "../../lib/http-error.ts";
import type { KubeClient } from "../../lib/kube.ts";
import type { Logger } from "../../lib/log.ts";
import type { Informer } from "../../lib/runtime/informer.ts";
import { resourceInformer } from "../../lib/runtime/kube-source.ts";
import { SortedBuilds } from "./sorted-builds.ts";

export interface BuildSource {
  /** Throws UnavailableError until the first list is in. */
  get(namespace: string, name: string): Build | undefined;
  /** A repository's Builds, newest first. Throws like get. */
  of(namespace: string, repository: string): readonly Build[];
  /** Repositories of a namespace that have Builds. Throws like get. */
  repositories(namespace: string): string[];
  ready(): boolean;
  /** Resolves when that Build changes (or goes), after `ms` at the latest, or when `signal` aborts. */
  changed(namespace: string, name: string, ms: number, signal?: AbortSignal): Promise<void>;
}

export interface BuildIndex extends BuildSource {
  start(): Promise<void>;
  stop(): void;
}

/** A BuildIndex fed by hand (tests, the bench) or by an informer (kubeBuildIndex). */
export class MemoryBuildIndex implements BuildSource {
  readonly #sorted = new SortedBuilds();
  readonly #byName = new Map<string, Build>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #ready = true;

  constructor(options: { ready?: boolean } = {}) {
    this.#ready = options.ready ?? true;
  }

  setReady(ready: boolean): void {
    this.#ready = ready;
  }

  upsert(build: Build): void {
    const key = `${build.metadata.namespace}/${build.metadata.name}`;
    this.#sorted.upsert(build, this.#byName.get(key));
    this.#byName.set(key, build);
    this.#wake(key);
  }

  remove(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const old = this.#byName.get(key);
    if (!old) return;
    this.#sorted.remove(old);
    this.#byName.delete(key);
    this.#wake(key);
  }

  get(namespace: string, name: string): Build | undefined {
    this.#check();
    return this.#byName.get(`${namespace}/${name}`);
  }

  of(namespace: string, repository: string): readonly Build[] {
    this.#check();
    return this.#sorted.of(namespace, repository);
  }

  repositories(namespace: string): string[] {
    this.#check();
    return this.#sorted.repositories(namespace);
  }

  ready(): boolean {
    return this.#ready;
  }

  changed(namespace: string, name: string, ms: number, signal?: AbortSignal): Promise<void> {
    const key = `${namespace}/${name}`;
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(key);
      if (!waiters) {
        waiters = new Set();
        this.#waiters.set(key, waiters);
      }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        const set = this.#waiters.get(key);
        set?.delete(done);
        if (set?.size === 0) this.#waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
      if (signal?.aborted) done();
      else signal?.addEventListener("abort", done, { once: true });
    });
  }

  #wake(key: string): void {
    for (const done of [...(this.#waiters.get(key) ?? [])]) done();
  }

  #check(): void {
    if (!this.#ready) throw new UnavailableError("the Build cache is not synced yet; try again");
  }
}

export function kubeBuildIndex(client: KubeClient, namespaces: readonly string[], log: Logger): BuildIndex {
  const informer: Informer<KubernetesObject> = resourceInformer<KubernetesObject>(
    client,
    API_VERSION,
    RESOURCES.Build.plural,
    { namespaces: [...namespaces], log },
  );
  const index = new MemoryBuildIndex({ ready: false });
  let unparsed = 0;
  informer.on((type, object) => {
    const meta = object.metadata ?? {};
    if (type === "delete") {
      index.remove(meta.namespace ?? "", meta.name ?? "");
      return;
    }
    if (type === "resync") return;
    const parsed = buildSchema.safeParse(object);
    if (parsed.success) index.upsert(parsed.data);
    else {
      // A Build that does not parse is left out of the pages (and said once in a while, not per event).
      index.remove(meta.namespace ?? "", meta.name ?? "");
      if (unparsed++ % 100 === 0)
        log.warn({ namespace: meta.namespace, name: meta.name }, "a Build that does not parse is not shown");
    }
  });
  return Object.assign(index, {
    async start() {
      informer.start();
      await informer.synced();
      index.setReady(true);
    },
    stop: () => informer.stop(),
  });
}
