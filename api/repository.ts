import { posix } from "node:path";
import { z } from "zod";
import { buildPodPlacement, condition, resource, secretKeyRef } from "./common.ts";

/** Which builds a chat hears about; "paused" (a build waiting at a pause) is also announced with "failure". */
export const NOTIFY_EVENTS = ["failure", "recovery", "success", "paused"] as const;
export const WEBHOOK_EVENTS = ["push", "pull_request"] as const;

// An http(s) URL, as a pattern both zod and the API server check the same way (z.url() and the
// server's "uri" format disagree on inputs such as "/path" or "http://").
export const HTTP_URL_PATTERN = "^https?://([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\])(:[0-9]+)?([/?#][!-~]*)?$";
const httpURL = z.string().regex(new RegExp(HTTP_URL_PATTERN));

export const repositorySpec = z
  .object({
    github: z
      .object({
        owner: z.string().min(1).describe("The GitHub account or organisation that owns the repository."),
        name: z.string().min(1).describe("The repository's name on GitHub."),
        apiURL: httpURL
          .optional()
          .describe("GitHub API root; set it for GitHub Enterprise (https://ghe.example/api/v3)."),
      })
      .describe("Which GitHub repository to watch."),
    cloneURL: z
      .string()
      .min(1)
      .optional()
      .describe("Where build pods fetch commits from; defaults to https://github.com/<owner>/<name>.git."),
    tokenSecretRef: secretKeyRef
      .optional()
      .describe("GitHub token for registering the webhook, commit statuses and private clones."),
    webhook: z
      .object({
        url: httpURL.optional().describe("Public URL GitHub delivers to; defaults to the webhook server's."),
        secretRef: secretKeyRef.describe("Secret used to sign deliveries (X-Hub-Signature-256)."),
        events: z
          .array(z.enum(WEBHOOK_EVENTS))
          .default(["push", "pull_request"])
          .describe("GitHub events that start builds."),
      })
      .optional()
      .describe("The GitHub webhook Kiln registers for this repository."),
    defaultBranch: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The repository's default branch (main when unset): a build's cache restore falls back to its caches.",
      ),
    branches: z
      .array(z.string().min(1))
      .default(["**"])
      .describe('Glob patterns of branches to build, such as "main" or "release/*".'),
    tags: z.boolean().default(false).describe("Whether pushed tags start builds."),
    manifest: z
      .string()
      .min(1)
      .default(".kiln.yaml")
      .describe("Path of the pipeline file in the repository."),
    notify: z
      .object({
        telegram: z
          .object({
            chats: z.array(z.string().min(1)).min(1).describe("Telegram chat ids to announce builds in."),
            // Not `on`: YAML 1.1 (kubectl) reads a bare `on:` key as `true`.
            when: z
              .array(z.enum(NOTIFY_EVENTS))
              .default(["failure", "recovery"])
              .describe("Which finished builds to announce."),
            admins: z
              .array(z.string().min(1))
              .optional()
              .describe(
                "Telegram users (numeric ids, or @usernames) who may /hold, /release, /cancel, /rerun and /approve builds from the chat.",
              ),
          })
          .optional(),
      })
      .optional()
      .describe("Where finished builds are announced."),
    concurrency: z.int().min(1).max(100).default(2).describe("Builds of this repository running at once."),
    cancelSuperseded: z
      .boolean()
      .default(true)
      .describe("Cancel a running build when a newer commit is pushed to the same branch."),
    history: z
      .object({
        keep: z.int().min(1).default(50).describe("Finished builds kept; older ones are deleted."),
      })
      .default({ keep: 50 })
      .describe("How many finished builds to keep."),
    buildPod: buildPodPlacement.optional(),
    approveForks: z
      .boolean()
      .default(true)
      .describe(
        "Pull requests from forks wait until an admin approves them (/approve in the chat, or the kiln.dev/approved-by annotation); false builds them at once (never with secrets).",
      ),
  })
  .describe("A GitHub repository that Kiln watches and builds.");
export type RepositorySpec = z.infer<typeof repositorySpec>;

export const blockedChat = z.object({
  chat: z.string().min(1).describe("The Telegram chat id."),
  reason: z.string().min(1).describe("Forbidden (bot blocked or removed), ChatNotFound or Unauthorized."),
  message: z.string().optional().describe("What Telegram answered."),
  since: z.string().describe("When Kiln stopped sending (RFC 3339)."),
  generation: z.int().min(0).describe("The Repository generation then; a spec change retries the chat."),
});
export type BlockedChat = z.infer<typeof blockedChat>;

export const repositoryStatus = z
  .object({
    observedGeneration: z.int().min(0).optional(),
    conditions: z.array(condition).optional(),
    hookID: z.int().optional().describe("Id of the GitHub webhook Kiln registered."),
    lastBuild: z.string().optional().describe("Name of the newest Build of this repository."),
    telegram: z
      .object({
        blockedChats: z
          .array(blockedChat)
          .optional()
          .describe("Chats Kiln stopped sending to; edit the Repository's spec to try them again."),
      })
      .optional()
      .describe("Telegram delivery problems, written by the reporting controller."),
  })
  .describe("What Kiln observed of the repository.");
export type RepositoryStatus = z.infer<typeof repositoryStatus>;

export const repository = resource("Repository", repositorySpec, repositoryStatus);
export type Repository = z.infer<typeof repository>;
/** A Repository as a user writes it: defaulted fields may be left out. */
export type RepositoryInput = z.input<typeof repository>;

/** Whether a branch is one of spec.branches' glob patterns (`*` within a path segment, `**` across). */
export function branchMatches(branch: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => pattern === branch || posix.matchesGlob(branch, pattern));
}

/** The clone URL of a Repository: its own, or GitHub's for owner/name (build pods fetch from it, `kiln build` asks it for branches). */
export function cloneURL(repository: Pick<Repository, "spec">): string {
  const { github, cloneURL } = repository.spec;
  return cloneURL ?? `https://github.com/${github.owner}/${github.name}.git`;
}
