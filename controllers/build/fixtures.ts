// Sample objects for the build controller's table and snapshot tests.
import { type Build, build as buildSchema } from "../../api/build.ts";
import { type Repository, repository as repositorySchema } from "../../api/repository.ts";
import { controllerConfig } from "../config.ts";
import type { BuildPodConfig } from "./build-pod.ts";
import type { PodPipeline } from "./pipeline.ts";

export const SHA = "4f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39";

export function sampleRepository(spec: Partial<Repository["spec"]> = {}): Repository {
  return repositorySchema.parse({
    apiVersion: "kiln.dev/v1alpha1",
    kind: "Repository",
    metadata: { name: "api", namespace: "ci", uid: "repo-uid" },
    spec: { github: { owner: "acme", name: "api" }, ...spec },
  });
}

export function sampleBuild(
  overrides: {
    name?: string;
    spec?: Partial<Build["spec"]>;
    status?: Build["status"];
    created?: string;
  } = {},
): Build {
  return buildSchema.parse({
    apiVersion: "kiln.dev/v1alpha1",
    kind: "Build",
    metadata: {
      name: overrides.name ?? "api-main-4f2c1a9",
      namespace: "ci",
      uid: "build-uid",
      generation: 1,
      creationTimestamp: overrides.created ?? "2026-01-01T00:00:00Z",
      labels: { "kiln.dev/repository": "api", "kiln.dev/branch": "main" },
    },
    spec: {
      repository: "api",
      revision: { sha: SHA, ref: "refs/heads/main", branch: "main" },
      trigger: { event: "push" },
      timeout: "30m",
      ...overrides.spec,
    },
    status: overrides.status,
  });
}

export const samplePipeline: PodPipeline = { image: "node:24", services: [] };

export const sampleConfig = controllerConfig.parse({
  image: "ghcr.io/kiln-ci/kiln:0.1.0",
  leaderElection: { identity: "test" },
}) as BuildPodConfig & ReturnType<typeof controllerConfig.parse>;
