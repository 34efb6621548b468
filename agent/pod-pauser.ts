// A pause in the build pod: the runner simply waits for its next command, so the build container
// stays up for `kubectl exec`. It ends when the Build's kiln.dev/resume annotation changes (watched,
// not polled), when `touch /kiln/resume` runs inside the container (inotify on the shared dir), or
// at the pause's deadline, which a kiln.dev/hold-until annotation moves later.
import { watch as watchDir } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { CustomObjectsApi, type KubeConfig, Watch } from "@kubernetes/client-node";
import { ANNOTATIONS, GROUP, RESOURCES, VERSION } from "../api/group.ts";
import { pauseMessage, RESUME_FILE } from "../api/pod-protocol.ts";
import type { Logger } from "../lib/log.ts";
import type { PauseOutcome, Pauser } from "./pipeline-run.ts";

/** Tells when a Build's resume annotation moves away from a baseline value, and when a hold extends a pause. */
export interface ResumeSignal {
  /** The annotation's current value (undefined when absent). */
  current(): Promise<string | undefined>;
  /** Resolves once the value differs from `baseline`; stops on abort. */
  changed(baseline: string | undefined, abort: AbortSignal): Promise<void>;
  /** Calls onHold with every hold-until time the Build carries (kiln.dev/hold-until), until abort. */
  holds?(onHold: (untilMs: number) => void, abort: AbortSignal): Promise<void>;
}

interface BuildLike {
  metadata?: { resourceVersion?: string; annotations?: Record<string, string> };
}

export function annotationResume(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  log: Logger,
): ResumeSignal {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const get = async () =>
    (await api.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: RESOURCES.Build.plural,
      name,
    })) as BuildLike;
  const path = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${RESOURCES.Build.plural}`;

  /**
   * Hands the Build to `seen` as it is now and on every change (read, then watch from that
   * resourceVersion: nothing between the two is missed), until `seen` says done or abort.
   */
  async function follow(seen: (build: BuildLike) => boolean, abort: AbortSignal): Promise<void> {
    let backoff = 200;
    while (!abort.aborted) {
      try {
        const build = await get();
        if (seen(build)) return;
        await new Promise<void>((resolve, reject) => {
          let request: AbortController | undefined;
          const finish = (error?: unknown) => {
            abort.removeEventListener("abort", onAbort);
            request?.abort();
            if (error) reject(error);
            else resolve();
          };
          const onAbort = () => finish();
          abort.addEventListener("abort", onAbort);
          new Watch(kubeConfig)
            .watch(
              path,
              {
                fieldSelector: `metadata.name=${name}`,
                resourceVersion: build.metadata?.resourceVersion,
                allowWatchBookmarks: true,
              },
              (type, object: BuildLike) => {
                if (type === "MODIFIED" && seen(object)) finish();
              },
              // The watch ended (server timeout, 410, network): read again and re-watch.
              (error) => finish(error ?? new Error("watch ended")),
            )
            .then(
              (controller) => {
                request = controller;
                if (abort.aborted) controller.abort();
              },
              (error) => finish(error),
            );
        });
        return;
      } catch (error) {
        if (abort.aborted) return;
        log.debug({ err: (error as Error).message }, "build watch ended; watching again");
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  return {
    async current() {
      return (await get()).metadata?.annotations?.[ANNOTATIONS.resume];
    },
    changed: (baseline, abort) =>
      follow((build) => build.metadata?.annotations?.[ANNOTATIONS.resume] !== baseline, abort),
    holds: (onHold, abort) =>
      follow((build) => {
        const until = Date.parse(build.metadata?.annotations?.[ANNOTATIONS.holdUntil] ?? "");
        if (!Number.isNaN(until)) onHold(until);
        return false;
      }, abort),
  };
}

export interface PodPauserOptions {
  kilnDir: string;
  namespace: string;
  build: string;
  pod: string;
  resume?: ResumeSignal;
  log: Logger;
}

export function podPauser(options: PodPauserOptions): Pauser {
  const resumeFile = join(options.kilnDir, RESUME_FILE);
  return {
    message: ({ deadline, reason }) =>
      pauseMessage({
        pod: options.pod,
        namespace: options.namespace,
        build: options.build,
        deadline: new Date(deadline).toISOString(),
        reason,
      }),
    async prepare() {
      // A file left from an earlier pause must not end this one.
      await rm(resumeFile, { force: true });
      try {
        return { baseline: await options.resume?.current() };
      } catch (error) {
        options.log.warn(
          { err: (error as Error).message },
          "cannot read the Build; only a change seen from now on resumes",
        );
        return { baseline: undefined };
      }
    },
    async wait(info, outer): Promise<PauseOutcome> {
      const { deadline, prepared } = info;
      const baseline = (prepared as { baseline?: string } | undefined)?.baseline;
      const stop = new AbortController();
      const onOuter = () => stop.abort();
      outer.addEventListener("abort", onOuter);
      try {
        return await new Promise<PauseOutcome>((resolve) => {
          let until = deadline;
          let timer = setTimeout(() => resolve("deadline"), Math.max(0, until - Date.now()));
          stop.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve("deadline");
          });
          const resumed = () => {
            clearTimeout(timer);
            resolve("resumed");
          };
          // A hold (kiln.dev/hold-until, /hold in the chat) moves the pause's end later, never earlier.
          options.resume
            ?.holds?.((holdUntil) => {
              if (holdUntil <= until || stop.signal.aborted) return;
              until = holdUntil;
              clearTimeout(timer);
              timer = setTimeout(() => resolve("deadline"), Math.max(0, until - Date.now()));
              info.extended?.(until);
            }, stop.signal)
            .catch(() => undefined);
          const watcher = watchDir(options.kilnDir, (_event, file) => {
            if (file === RESUME_FILE) resumed();
          });
          stop.signal.addEventListener("abort", () => watcher.close());
          // Touched between the rm and the watch starting.
          stat(resumeFile).then(resumed, () => undefined);
          options.resume?.changed(baseline, stop.signal).then(
            () => stop.signal.aborted || resumed(),
            () => undefined,
          );
        });
      } finally {
        stop.abort();
        outer.removeEventListener("abort", onOuter);
      }
    },
  };
}
