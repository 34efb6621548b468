// The kubelet's view of Pods: list, then watch from the list's resourceVersion; any error (410
// Gone, a reset, client-node's inactivity timeout) relists after a capped back-off.
import { type KubeConfig, Watch } from "@kubernetes/client-node";
import type { Logger } from "../../lib/log.ts";
import { type Api, HttpError } from "./client.ts";
import type { RawPod } from "./node-api.ts";

/** List then watch all pods, relisting after any error (410 included) with capped back-off. */
export class PodWatcher {
  private stopped = false;
  private abort: AbortController | undefined;
  private resourceVersion = "";
  private delay = 200;
  private readonly kc: KubeConfig;
  private readonly api: Api;
  private readonly log: Logger;
  private readonly handle: (type: string, pod: RawPod) => void;
  private readonly listed: (uids: Set<string>) => void;

  constructor(
    kc: KubeConfig,
    api: Api,
    log: Logger,
    handle: (type: string, pod: RawPod) => void,
    listed: (uids: Set<string>) => void,
  ) {
    this.kc = kc;
    this.api = api;
    this.log = log;
    this.handle = handle;
    this.listed = listed;
  }

  async start(): Promise<void> {
    await this.list();
    void this.watch();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private async list(): Promise<void> {
    const list = await this.api.request<{ metadata: { resourceVersion: string }; items: RawPod[] }>(
      "GET",
      "/api/v1/pods",
    );
    this.resourceVersion = list.metadata.resourceVersion;
    this.listed(new Set(list.items.map((p) => p.metadata.uid)));
    for (const pod of list.items) this.handle("ADDED", pod);
  }

  private async watch(): Promise<void> {
    while (!this.stopped) {
      const ended = new Promise<unknown>((resolve) => {
        void new Watch(this.kc)
          .watch(
            "/api/v1/pods",
            { resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
            (type, obj) => {
              if (type === "ERROR") {
                resolve(new HttpError((obj as { code?: number }).code ?? 500, obj));
                return;
              }
              const rv = (obj as RawPod).metadata?.resourceVersion;
              if (rv) this.resourceVersion = rv;
              if (type === "BOOKMARK") return;
              this.delay = 200;
              this.handle(type, obj as RawPod);
            },
            (err) => resolve(err),
          )
          .then((abort) => {
            this.abort = abort;
            if (this.stopped) abort.abort();
          });
      });
      const err = await ended;
      this.abort?.abort();
      if (this.stopped) return;
      const expired = err instanceof HttpError && err.code === 410;
      if (err && !expired) this.log.debug({ err }, "pod watch ended; restarting");
      if (err) {
        await new Promise((r) => setTimeout(r, this.delay));
        this.delay = Math.min(this.delay * 2, 5_000);
        try {
          await this.list();
        } catch (error) {
          this.log.warn({ err: error }, "listing pods failed");
        }
      }
    }
  }
}
