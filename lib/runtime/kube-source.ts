// An InformerSource over the Kubernetes API with client-node's Watch: list, then watch with bookmarks.
import { type KubeConfig, Watch } from "@kubernetes/client-node";
import { type KubeClient, resourcePath } from "../kube.ts";
import {
  Informer,
  type InformerOptions,
  type InformerSource,
  type ListResult,
  type ObjectWithMeta,
  type WatchEventType,
} from "./informer.ts";

export interface KubeSourceOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Asks the server to end each watch after about this long (randomised, as client-go does). */
  watchTimeoutSeconds?: number;
}

/**
 * path is the collection URL without query, e.g. /apis/kiln.dev/v1alpha1/namespaces/ci/builds or
 * /api/v1/pods; list must list that same collection with the same selectors.
 */
export function kubeSource<T extends ObjectWithMeta>(
  kubeConfig: KubeConfig,
  path: string,
  list: () => Promise<ListResult<T>>,
  options: KubeSourceOptions = {},
): InformerSource<T> {
  const watcher = new Watch(kubeConfig);
  const timeout = options.watchTimeoutSeconds ?? 300;
  return {
    list,
    async watch(resourceVersion, onEvent, done) {
      const controller = await watcher.watch(
        path,
        {
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: Math.round(timeout * (1 + Math.random())),
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
        },
        (type, object) => onEvent(type as WatchEventType, object as T),
        done,
      );
      return { abort: () => controller.abort() };
    },
  };
}

export interface ResourceInformerOptions extends KubeSourceOptions, InformerOptions {
  /** Only these namespaces (empty or undefined: all). One namespace is watched directly, several are filtered. */
  namespaces?: string[];
}

/** An informer for one resource, e.g. resourceInformer(client, "v1", "pods", {labelSelector: "kiln.dev/build"}). */
export function resourceInformer<T extends ObjectWithMeta>(
  client: KubeClient,
  apiVersion: string,
  plural: string,
  options: ResourceInformerOptions = {},
): Informer<T> {
  const namespaces = options.namespaces ?? [];
  const single = namespaces.length === 1 ? namespaces[0] : undefined;
  const path = resourcePath(apiVersion, plural, single);
  const wanted = namespaces.length > 1 ? new Set(namespaces) : undefined;
  const keep = (o: T) => wanted === undefined || wanted.has(o.metadata?.namespace ?? "");
  const source = kubeSource<T>(
    client.kubeConfig,
    path,
    async () => {
      const list = await client.list<T>(path, {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      });
      return { items: list.items.filter(keep), metadata: list.metadata };
    },
    options,
  );
  const filtered: InformerSource<T> = {
    list: source.list,
    watch: (rv, onEvent, done) =>
      source.watch(
        rv,
        (type, o) => (type === "BOOKMARK" || type === "ERROR" || keep(o)) && onEvent(type, o),
        done,
      ),
  };
  return new Informer<T>(`${plural}`, filtered, options);
}
