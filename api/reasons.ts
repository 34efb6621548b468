// Every CamelCase reason Kiln writes, in one place, as the types its writers must use: a Build's
// status.reason (the build controller), a chat record's reason (the reporting controller) and the
// Repository's WebhookReady condition (the repository controller). `kubectl describe` shows them.

/** Why a Build is in its phase. */
export const BUILD_REASONS = [
  // Queued
  "RepositoryNotFound",
  "AwaitingApproval",
  "WaitingForSlot",
  "ManifestUnavailable",
  "PodCreateFailed",
  // Pending, Running
  "PodPending",
  "PodScheduled",
  "Unschedulable",
  "ImagePullFailed",
  // the kubelet's own waiting reasons, passed on as they are
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
  "Reviving",
  "Running",
  "Paused",
  // finished
  "Succeeded",
  "StepFailed",
  "FetchFailed",
  "InvalidManifest",
  "SecretMissing",
  "ManifestNotFound",
  "InvalidPod",
  "PodSecurity",
  "PodConflict",
  "PodFailed",
  "PodLost",
  "PodUnknown",
  "PodTerminating",
  "OOMKilled",
  "Evicted",
  "StartTimeout",
  "TimedOut",
  "DeadlineExceeded",
  "Cancelled",
  "Superseded",
] as const;
export type BuildReason = (typeof BUILD_REASONS)[number];

/** Narrows a string to one of a set of reasons (a kubelet's waiting reason Kiln passes on, say). */
export function isReason<T extends string>(set: ReadonlySet<T>, value: string | undefined): value is T {
  return value !== undefined && set.has(value as T);
}

/** Why a chat record is settled as it is, or what Telegram last answered (see controllers/reporting). */
export const CHAT_REASONS = [
  "Forbidden",
  "ChatNotFound",
  "Unauthorized",
  "BadRequest",
  "Stale",
  "Outdated",
  "TooManyRequests",
  "ServerError",
  "NetworkError",
] as const;
export type ChatReason = (typeof CHAT_REASONS)[number];

/** The Repository's WebhookReady condition's reasons. */
export const REPOSITORY_REASONS = {
  registered: "Registered",
  notConfigured: "NotConfigured",
  noURL: "NoWebhookURL",
  secretMissing: "SecretMissing",
  tokenMissing: "TokenMissing",
  unauthorized: "Unauthorized",
  forbidden: "Forbidden",
  notFound: "RepositoryNotFound",
  rateLimited: "RateLimited",
  gitHubError: "GitHubError",
} as const;
export type RepositoryReason = (typeof REPOSITORY_REASONS)[keyof typeof REPOSITORY_REASONS];
