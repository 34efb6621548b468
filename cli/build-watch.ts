// One Build, watched (a list and watch of its name, through lib/runtime's informer, which resumes a watch
// that breaks): what `kiln logs -f` waits on — a pod, a phase, the end — without polling.
import type { Build } from "../api/build.ts";
import { API_VERSION, RESOURCES } from "../api/group.ts";
import { resourcePath } from "../lib/kube.ts";
import { httpStatus } from "../lib/kube-errors.ts";
import { Informer } from "../lib/runtime/informer.ts";
import { kubeSource } from "../lib/runtime/kube-source.ts";
import { CliError } from "./errors.ts";
import type { Session } from "./session.ts";

interface Waiter {
  pick(build: Build): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class BuildWatch {
  readonly #informer: Informer<Build>;
  readonly #waiters = new Set<Waiter>();
  readonly #listeners: ((build: Build) => void)[] = [];
  #latest: Build | undefined;
  #failure: unknown;

  constructor(session: Session, namespace: string, name: string) {
    const path = resourcePath(API_VERSION, RESOURCES.Build.plural, namespace);
    const fieldSelector = `metadata.name=${name}`;
    const source = kubeSource<Build>(
      session.kubeConfig,
      path,
      async () => {
        try {
          return await session.client.list<Build>(path, { fieldSelector });
        } catch (error) {
          // The informer would retry for ever; a refusal will not change by itself.
          const status = httpStatus(error);
          if (status === 401 || status === 403 || status === 404) this.#fail(error);
          throw error;
        }
      },
      { fieldSelector },
    );
    this.#informer = new Informer(`build ${name}`, source, { resyncMs: 0 });
    this.#informer.on((type, build) => {
      if (type === "delete") return this.#fail(new CliError(`build ${name} was deleted`));
      this.#latest = build;
      for (const listen of this.#listeners) listen(build);
      for (const w of [...this.#waiters]) this.#try(w, build);
    });
    void this.#informer.synced().then(() => {
      if (!this.#informer.get(namespace, name)) this.#fail(new CliError(`build ${name} is gone`));
    });
    this.#informer.start();
  }

  /** The Build as last seen. */
  get latest(): Build | undefined {
    return this.#latest;
  }

  /** Calls `listen` with every new state of the Build. */
  onChange(listen: (build: Build) => void): void {
    this.#listeners.push(listen);
  }

  /** Resolves with what `pick` makes of the Build once that is not undefined (at once if it is so now). */
  until<T>(pick: (build: Build) => T | undefined): Promise<T> {
    return this.#wait(pick).reached;
  }

  /** As until, but resolves with undefined after `ms` if the Build has not got there by then. */
  async untilOr<T>(pick: (build: Build) => T | undefined, ms: number): Promise<T | undefined> {
    const { reached, cancel } = this.#wait(pick);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        cancel();
        resolve(undefined);
      }, ms);
    });
    try {
      return await Promise.race([reached, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  #wait<T>(pick: (build: Build) => T | undefined): { reached: Promise<T>; cancel: () => void } {
    let waiter: Waiter | undefined;
    const reached = new Promise<T>((resolve, reject) => {
      if (this.#failure !== undefined) return reject(this.#failure);
      waiter = { pick, resolve: resolve as (v: unknown) => void, reject };
      this.#waiters.add(waiter);
      if (this.#latest) this.#try(waiter, this.#latest);
    });
    return { reached, cancel: () => waiter && this.#waiters.delete(waiter) };
  }

  stop(): void {
    this.#informer.stop();
  }

  #try(waiter: Waiter, build: Build): void {
    const value = waiter.pick(build);
    if (value === undefined) return;
    this.#waiters.delete(waiter);
    waiter.resolve(value);
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    for (const w of [...this.#waiters]) w.reject(this.#failure);
    this.#waiters.clear();
    this.stop();
  }
}
