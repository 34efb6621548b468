// What this process has under way that its caches do not show yet: builds getting a pod hold a
// concurrency slot before their status says so, and a pod just created may reach the pod cache after the
// Build's status (the two watches are not ordered). Forgotten as soon as the caches catch up.
import type { V1Pod } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";

export class InFlight {
  readonly #starting = new Set<string>();
  readonly #created = new Map<string, V1Pod>();

  /** The build is getting a pod: it holds a slot from now on. */
  start(key: string): void {
    this.#starting.add(key);
  }

  /** Its pod exists: until the pod cache has it, this is the pod. */
  created(key: string, pod: V1Pod): void {
    this.#created.set(key, pod);
  }

  /** The start came to nothing (queued again, failed, refused): the slot is free. */
  abandon(key: string): void {
    if (!this.#created.has(key)) this.#starting.delete(key);
  }

  isStarting(key: string): boolean {
    return this.#starting.has(key);
  }

  /** The pod this process created for the build, while the pod cache does not show it. */
  pod(key: string): V1Pod | undefined {
    return this.#created.get(key);
  }

  /** What the caches now show needs no remembering: the Build names its pod, the pod cache has it. */
  settle(key: string, build: Build, cachedPod: V1Pod | undefined): void {
    if (build.status?.podName) this.#starting.delete(key);
    if (cachedPod) this.#created.delete(key);
  }

  forget(key: string): void {
    this.#starting.delete(key);
    this.#created.delete(key);
  }
}
