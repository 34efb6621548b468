// The API calls the people commands make, over lib/kube.ts and lib/kube-objects.ts.
import type { V1Pod } from "@kubernetes/client-node";
import type { Build } from "../api/build.ts";
import type { Repository } from "../api/repository.ts";
import { resourcePath } from "../lib/kube.ts";
import { builds, orUndefined, repositories } from "../lib/kube-objects.ts";
import { CliError } from "./errors.ts";
import { resolveBuild } from "./resolve-build.ts";
import type { Session } from "./session.ts";

/** The Build a person means (resolve-build.ts): a GET for an exact name, a list of the namespace otherwise. */
export async function findBuild(session: Session, query: string): Promise<Build> {
  const exact = await builds(session.client).get(session.namespace, query);
  if (exact) return exact;
  const resolved = resolveBuild(query, await listBuilds(session, false), session.namespace);
  if ("error" in resolved) throw new CliError(resolved.error);
  return resolved.build;
}

export function listBuilds(session: Session, allNamespaces: boolean): Promise<Build[]> {
  return builds(session.client).list(allNamespaces ? undefined : session.namespace);
}

export async function getRepository(session: Session, name: string): Promise<Repository> {
  const repository = await repositories(session.client).get(session.namespace, name);
  if (!repository) throw new CliError(`no repository "${name}" in namespace ${session.namespace}`);
  return repository;
}

/** The Build's Repository; a build whose Repository is gone cannot be built again. */
export async function repositoryOf(session: Session, build: Build): Promise<Repository> {
  const repository = await repositories(session.client).get(build.metadata.namespace!, build.spec.repository);
  if (!repository)
    throw new CliError(
      `the repository "${build.spec.repository}" of ${build.metadata.name} is gone from namespace ${build.metadata.namespace}`,
    );
  return repository;
}

export function getPod(session: Session, namespace: string, name: string): Promise<V1Pod | undefined> {
  return orUndefined(session.client.get<V1Pod>(resourcePath("v1", "pods", namespace, name)));
}

/**
 * Who asks, for the annotations a request leaves (`kiln.dev/requested-by`): the user the API server sees
 * (a SelfSubjectReview, as `kubectl auth whoami`), else the kubeconfig's user name for the context.
 */
export async function requester(session: Session): Promise<string> {
  try {
    const review = await session.client.create<{ status?: { userInfo?: { username?: string } } }>(
      "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    );
    const name = review.status?.userInfo?.username;
    if (name) return `kubernetes:${name}`;
  } catch {
    // An API server before 1.28, or one that does not allow it: the kubeconfig's word will do.
  }
  return `kubeconfig:${session.kubeConfig.getCurrentUser()?.name ?? "unknown"}`;
}
