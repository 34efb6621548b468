// Records the step records in Build.status.steps: a JSON merge patch on the Build's /status, and
// nothing else (the build controller alone writes status.phase). Updates coalesce (only the latest
// list is sent), transient API errors are retried with capped backoff, and the build never fails
// because the API blinked.
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { StepStatus } from "../api/build.ts";
import { GROUP, RESOURCES, VERSION } from "../api/group.ts";
import { httpStatus, isTransient } from "../lib/kube-errors.ts";
import type { Logger } from "../lib/log.ts";

/** Sends one merge patch body to the Build's status subresource. */
export type StatusPatcher = (body: { status: { steps: StepStatus[] } }) => Promise<void>;

export function buildStatusPatcher(kubeConfig: KubeConfig, namespace: string, name: string): StatusPatcher {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  return async (body) => {
    await api.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: RESOURCES.Build.plural, name, body },
      mergePatch,
    );
  };
}

export interface StatusReporterOptions {
  patch: StatusPatcher;
  log: Logger;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export class StatusReporter {
  readonly #o: Required<Omit<StatusReporterOptions, "log" | "patch">> &
    Pick<StatusReporterOptions, "log" | "patch">;
  #latest: StepStatus[] | undefined;
  #sentJSON = "";
  #loop: Promise<void> | undefined;
  #stopped = false;
  #failures = 0;

  constructor(options: StatusReporterOptions) {
    this.#o = {
      initialBackoffMs: 200,
      maxBackoffMs: 10_000,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...options,
    };
  }

  /** How many patches failed so far (for logs and tests). */
  get failures(): number {
    return this.#failures;
  }

  /** Queue the latest step records; returns at once. */
  update(steps: StepStatus[]): void {
    if (this.#stopped) return;
    this.#latest = steps;
    this.#loop ??= this.#run().finally(() => {
      this.#loop = undefined;
      // An update that arrived after the loop's last look starts a new round.
      if (this.#pending()) this.update(this.#latest!);
    });
  }

  /** Waits until the latest records are sent, at most `timeoutMs`; true when they were. */
  async flush(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => {
      timer = setTimeout(r, timeoutMs);
    });
    while (this.#loop && this.#pending()) {
      const more = await Promise.race([this.#loop.then(() => true), timeout.then(() => false)]);
      if (!more) break;
    }
    clearTimeout(timer);
    return !this.#pending();
  }

  /** Stops retrying (the agent is exiting). */
  stop(): void {
    this.#stopped = true;
  }

  #pending(): boolean {
    return this.#latest !== undefined && JSON.stringify(this.#latest) !== this.#sentJSON;
  }

  async #run(): Promise<void> {
    let backoff = this.#o.initialBackoffMs;
    while (!this.#stopped && this.#pending()) {
      const steps = this.#latest!;
      const json = JSON.stringify(steps);
      try {
        await this.#o.patch({ status: { steps } });
        this.#sentJSON = json;
        backoff = this.#o.initialBackoffMs;
      } catch (error) {
        this.#failures++;
        const code = httpStatus(error);
        if (!isTransient(error)) {
          // 404: the Build is gone; 422: the server refuses the shape. Retrying cannot help.
          this.#o.log.error(
            { code, err: message(error) },
            "cannot record the steps in Build.status; giving up",
          );
          this.#sentJSON = json;
          if (code === 404) this.#stopped = true;
          continue;
        }
        this.#o.log.warn(
          { code, err: message(error), retryInMs: backoff },
          "recording steps in Build.status failed; retrying",
        );
        await this.#o.sleep(backoff);
        backoff = Math.min(backoff * 2, this.#o.maxBackoffMs);
      }
    }
  }
}

function message(error: unknown): string {
  const m = (error as Error)?.message ?? String(error);
  return m.length > 300 ? `${m.slice(0, 300)}…` : m;
}
