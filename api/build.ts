import { z } from "zod";
import { condition, duration, resource } from "./common.ts";

export const BUILD_PHASES = [
  "Queued",
  "Pending",
  "Running",
  "Paused",
  "Succeeded",
  "Failed",
  "Errored",
  "Cancelled",
  "TimedOut",
] as const;
export type BuildPhase = (typeof BUILD_PHASES)[number];

export const FINISHED_PHASES: ReadonlySet<BuildPhase> = new Set([
  "Succeeded",
  "Failed",
  "Errored",
  "Cancelled",
  "TimedOut",
]);

export function isFinished(phase: BuildPhase | undefined): boolean {
  return phase !== undefined && FINISHED_PHASES.has(phase);
}

export const STEP_PHASES = [
  "Pending",
  "Running",
  "Paused",
  "Succeeded",
  "Failed",
  "Skipped",
  "Cancelled",
  "TimedOut",
] as const;
export type StepPhase = (typeof STEP_PHASES)[number];

export const TRIGGER_EVENTS = ["push", "pull_request", "manual", "catch-up"] as const;

const sha = z.string().regex(/^[0-9a-f]{40}$/);

export const buildSpec = z
  .object({
    repository: z.string().min(1).describe("Name of a Repository in the same namespace."),
    revision: z
      .object({
        sha: sha.describe("The full commit sha to build."),
        ref: z
          .string()
          .min(1)
          .optional()
          .describe(
            "The git ref that was pushed, such as refs/heads/main; left out, it is refs/heads/<branch> or refs/tags/<tag>.",
          ),
        branch: z.string().optional().describe("Branch name, for branch pushes and pull requests."),
        tag: z.string().optional().describe("Tag name, for tag pushes."),
        before: sha
          .optional()
          .describe(
            "The commit the ref pointed at before this push (absent for a new ref): links consecutive pushes, so the newer supersedes the older however close together they came.",
          ),
        message: z.string().optional().describe("The commit message."),
        author: z.string().optional().describe("Who wrote the commit."),
        compareURL: z.string().optional().describe("A link to the changes on GitHub."),
      })
      .describe("The commit to build."),
    trigger: z
      .object({
        event: z.enum(TRIGGER_EVENTS).describe("What started the build."),
        deliveryID: z.string().optional().describe("The GitHub delivery that started it."),
        receivedAt: z
          .string()
          .optional()
          .describe(
            "When Kiln's webhook received the delivery (RFC 3339, milliseconds): orders pushes to a branch that the push chain does not link.",
          ),
        pullRequest: z
          .object({
            number: z.int().min(1),
            fork: z.boolean().describe("Whether the head is in another repository; forks get no secrets."),
          })
          .optional(),
      })
      .default({ event: "manual" })
      .describe("What started the build; a Build written by hand is manual."),
    pauseOnFailure: z
      .boolean()
      .default(false)
      .describe("Keep the pod alive at a failed step for kubectl exec."),
    timeout: duration.default("1h").describe("Deadline for the whole build, pauses included."),
    cancel: z.boolean().default(false).describe("Set to true to stop the build."),
  })
  .describe("One run of one commit.");
export type BuildSpec = z.infer<typeof buildSpec>;
export type Revision = BuildSpec["revision"];

/**
 * The ref a revision is of: spec.revision.ref, or, when a hand-written Build leaves it out, the one its
 * branch or tag names. A CRD default is a constant, so the API server cannot derive it; every reader asks
 * here instead. Undefined for a bare commit.
 */
export function revisionRef(revision: Revision): string | undefined {
  if (revision.ref !== undefined) return revision.ref;
  if (revision.branch !== undefined) return `refs/heads/${revision.branch}`;
  if (revision.tag !== undefined) return `refs/tags/${revision.tag}`;
  return undefined;
}

export const stepStatus = z.object({
  name: z.string().min(1),
  phase: z.enum(STEP_PHASES),
  exitCode: z.int().optional(),
  startTime: z.string().optional(),
  completionTime: z.string().optional(),
  message: z.string().optional(),
});
export type StepStatus = z.infer<typeof stepStatus>;

export const GITHUB_STATES = ["pending", "success", "failure", "error"] as const;
export type GitHubState = (typeof GITHUB_STATES)[number];

const githubIntent = z.object({
  state: z.enum(GITHUB_STATES),
  description: z.string().optional(),
  targetURL: z.string().optional(),
  time: z.string().describe("When the intent was recorded (RFC 3339)."),
});

export const CHAT_REPORT_STATES = ["Queued", "Sending", "Sent", "Skipped", "Failed"] as const;
export type ChatReportState = (typeof CHAT_REPORT_STATES)[number];

export const chatReport = z.object({
  chat: z.string().min(1).describe("The Telegram chat id."),
  event: z
    .string()
    .optional()
    .describe("Which notify event the message is for: failure, recovery or success."),
  state: z
    .enum(CHAT_REPORT_STATES)
    .describe(
      "Queued: owed, not yet sent; Sending: the request may be in flight; then Sent, Skipped or Failed.",
    ),
  reason: z.string().optional().describe("Why a message was skipped or failed, in CamelCase."),
  messageID: z.int().optional().describe("The Telegram message id, once sent."),
  digest: z
    .boolean()
    .optional()
    .describe("Whether the build was announced inside a digest of several builds."),
  attempts: z
    .int()
    .min(0)
    .optional()
    .describe("Transient failures so far (5xx, network; Telegram's 429s are waits, not failures)."),
  lastAnswer: z.string().optional().describe("What Telegram last answered while the message is delayed."),
  retryAt: z.string().optional().describe("When the next attempt is due (RFC 3339), while delayed."),
  time: z.string().describe("When the record last changed (RFC 3339)."),
});
export type ChatReport = z.infer<typeof chatReport>;

export const buildStatus = z
  .object({
    observedGeneration: z.int().min(0).optional(),
    phase: z.enum(BUILD_PHASES).optional(),
    reason: z.string().optional().describe("A CamelCase reason for the phase."),
    message: z.string().optional().describe("What a person should know about the phase."),
    podName: z.string().optional(),
    startTime: z.string().optional(),
    completionTime: z.string().optional(),
    duration: z.string().optional().describe("How long the build ran, once finished (the DURATION column)."),
    steps: z.array(stepStatus).optional(),
    reported: z
      .object({
        telegram: z
          .string()
          .optional()
          .describe("The phase announced in Telegram (set once every chat is settled)."),
        github: z.string().optional().describe("The last commit status state posted to GitHub."),
        githubIntent: githubIntent
          .optional()
          .describe("A commit status about to be posted: recorded before posting, cleared once it is."),
        chats: z
          .array(chatReport)
          .optional()
          .describe("One record per Telegram chat owed a message about this build."),
      })
      .optional()
      .describe("What has been announced, so nothing is said twice."),
    conditions: z.array(condition).optional(),
  })
  .describe("What happened to the build.");
export type BuildStatus = z.infer<typeof buildStatus>;

export const build = resource("Build", buildSpec, buildStatus);
export type Build = z.infer<typeof build>;
/** A Build as a client writes it: defaulted fields may be left out. */
export type BuildInput = z.input<typeof build>;

/** Oldest first: by creation time, then name, so every replica orders alike. */
export function byAge(a: Build, b: Build): number {
  const ta = a.metadata.creationTimestamp ?? "";
  const tb = b.metadata.creationTimestamp ?? "";
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1;
}

/** Newest first: byAge reversed (the order of `kiln get`). */
export const newestFirst = (a: Build, b: Build): number => byAge(b, a);
