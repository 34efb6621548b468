// Builders of Build and Repository records for the reporting tests.
import type { Build, BuildStatus } from "../../api/build.ts";
import { type Repository, repositorySpec } from "../../api/repository.ts";

export const SHA = "0123456789abcdef0123456789abcdef01234567";

export function makeBuild(
  name: string,
  status: BuildStatus | undefined,
  overrides: { branch?: string; created?: string; message?: string; repository?: string } = {},
): Build {
  return {
    apiVersion: "kiln.dev/v1alpha1",
    kind: "Build",
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      creationTimestamp: overrides.created ?? "2026-11-22T00:00:00Z",
    },
    spec: {
      repository: overrides.repository ?? "api",
      revision: {
        sha: SHA,
        ref: `refs/heads/${overrides.branch ?? "main"}`,
        branch: overrides.branch ?? "main",
        message: overrides.message ?? "Fix the flaky test\n\nLonger body.",
        author: "Ada Lovelace",
        compareURL: "https://github.com/acme/api/compare/a...b",
      },
      trigger: { event: "push" },
      pauseOnFailure: false,
      timeout: "1h",
      cancel: false,
    },
    ...(status ? { status } : {}),
  };
}

export function makeRepository(
  notify?: { chats: string[]; when: ("failure" | "recovery" | "success" | "paused")[]; admins?: string[] },
  extra: { generation?: number; blocked?: { chat: string; reason: string; generation: number }[] } = {},
): Repository {
  // The schema fills the defaults, as the API server does.
  const spec = repositorySpec.parse({
    github: { owner: "acme", name: "api" },
    ...(notify ? { notify: { telegram: notify } } : {}),
  });
  return {
    apiVersion: "kiln.dev/v1alpha1",
    kind: "Repository",
    metadata: { name: "api", namespace: "default", generation: extra.generation ?? 1 },
    spec,
    ...(extra.blocked
      ? {
          status: {
            telegram: {
              blockedChats: extra.blocked.map((b) => ({ ...b, since: "2026-11-22T00:00:00Z" })),
            },
          },
        }
      : {}),
  };
}
