// Where Builds and pods live in the API, and whether a pod is a Build's own.
import type { V1Pod } from "@kubernetes/client-node";
import type { Build } from "../../api/build.ts";
import { API_VERSION } from "../../api/group.ts";
import { resourcePath } from "../../lib/kube.ts";

export const buildPath = (b: Build) =>
  resourcePath(API_VERSION, "builds", b.metadata.namespace, b.metadata.name);
export const podPath = (ns: string, name?: string) => resourcePath("v1", "pods", ns, name);
export const ownedBy = (pod: V1Pod, build: Build) =>
  pod.metadata?.ownerReferences?.some((r) => r.controller && r.uid === build.metadata.uid) ?? false;
