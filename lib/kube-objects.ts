// Typed access to Kiln's resources over KubeClient, the one way every component reads and writes them:
// a create where AlreadyExists means "it exists" (a redelivery, a catch-up racing a push), a read where
// NotFound means "not there", and status writes guarded by the resourceVersion with the conflict retry
// done once, here: read fresh, compute the change from what is there, write conditionally, again on 409.
import type { Build, BuildInput } from "../api/build.ts";
import { API_VERSION, RESOURCES } from "../api/group.ts";
import type { Repository } from "../api/repository.ts";
import { type KubeClient, resourcePath } from "./kube.ts";
import { isAlreadyExists, isConflict, isNotFound } from "./kube-errors.ts";

/** Conflicts retried from a fresh read before the last one is thrown (the work queue then backs off). */
export const CONFLICT_RETRIES = 8;

/** Runs `attempt` again on a 409, from a fresh read each time; the last conflict is thrown, never dropped. */
export async function retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isConflict(err) || n >= CONFLICT_RETRIES) throw err;
    }
  }
}

export async function orUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

interface Kind {
  plural: string;
}

export interface ResourceAccess<T extends { metadata: { resourceVersion?: string } }, In> {
  get(namespace: string, name: string): Promise<T | undefined>;
  list(namespace?: string): Promise<T[]>;
  /** "exists" when one of that name is there already. */
  create(namespace: string, object: In): Promise<"created" | "exists">;
  /** JSON merge patch of the object itself (metadata, spec). */
  patch(namespace: string, name: string, patch: object): Promise<T>;
  /** JSON merge patch of /status, conditional on `resourceVersion` when given (409 when it moved). */
  patchStatus(
    namespace: string,
    name: string,
    resourceVersion: string | undefined,
    status: object,
  ): Promise<T>;
  /**
   * Changes the status from a fresh read: `change` sees the current object and returns the status merge
   * patch, or undefined for nothing to do; written conditionally, retried on conflict. Undefined when the
   * object is gone or nothing changed.
   */
  updateStatus(
    namespace: string,
    name: string,
    change: (current: T) => object | undefined,
  ): Promise<T | undefined>;
}

function access<T extends { metadata: { resourceVersion?: string } }, In>(
  client: KubeClient,
  kind: Kind,
): ResourceAccess<T, In> {
  const path = (namespace?: string, name?: string) => resourcePath(API_VERSION, kind.plural, namespace, name);
  const self: ResourceAccess<T, In> = {
    get: (namespace, name) => orUndefined(client.get<T>(path(namespace, name))),
    list: async (namespace) => (await client.list<T>(path(namespace))).items,
    async create(namespace, object) {
      try {
        await client.create(path(namespace), object);
        return "created";
      } catch (err) {
        if (isAlreadyExists(err)) return "exists";
        throw err;
      }
    },
    patch: (namespace, name, patch) => client.mergePatch<T>(path(namespace, name), patch),
    patchStatus: (namespace, name, resourceVersion, status) =>
      client.mergePatch<T>(`${path(namespace, name)}/status`, {
        ...(resourceVersion !== undefined ? { metadata: { resourceVersion } } : {}),
        status,
      }),
    updateStatus: (namespace, name, change) =>
      retryOnConflict(async () => {
        const current = await self.get(namespace, name);
        if (!current) return undefined;
        const status = change(current);
        if (!status) return undefined;
        return self.patchStatus(namespace, name, current.metadata.resourceVersion, status);
      }),
  };
  return self;
}

export const builds = (client: KubeClient) => access<Build, BuildInput>(client, RESOURCES.Build);
export const repositories = (client: KubeClient) =>
  access<Repository, Repository>(client, RESOURCES.Repository);
