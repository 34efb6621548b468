// Names every component shares: the API group, kinds, labels and annotations.
export const GROUP = "kiln.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export const RESOURCES = {
  Repository: { kind: "Repository", plural: "repositories", singular: "repository", shortNames: ["repo"] },
  Build: { kind: "Build", plural: "builds", singular: "build", shortNames: ["bld"] },
} as const;

export const CATEGORY = "kiln";

export const LABELS = {
  /** Name of the Build a Pod belongs to. */
  build: `${GROUP}/build`,
  /** Name of the Repository a Build or Pod belongs to. */
  repository: `${GROUP}/repository`,
  /** The branch (or tag) a Build is for, made label-safe. */
  branch: `${GROUP}/branch`,
  /** Short (7 character) commit sha; also the COMMIT printer column. */
  commit: `${GROUP}/commit`,
} as const;

export const ANNOTATIONS = {
  /** Set on a paused Build to let it continue. */
  resume: `${GROUP}/resume`,
  /** Set on a Build to cancel it. */
  cancel: `${GROUP}/cancel`,
  /** RFC 3339 time a paused Build stays paused until, at least (a hold; /hold in the chat). */
  holdUntil: `${GROUP}/hold-until`,
  /** Who let a pull request from a fork build (/approve in the chat): `telegram:<user>` or a person's name. */
  approvedBy: `${GROUP}/approved-by`,
  /** Who asked for a Build by hand (a rerun from the chat: `telegram:<user>`). */
  requestedBy: `${GROUP}/requested-by`,
  /** The Build a rerun repeats. */
  rebuildOf: `${GROUP}/rebuild-of`,
  /** How often the build controller gave a Build a new pod after losing one before any step ran. */
  revivals: `${GROUP}/revivals`,
  /** On a Repository: the fingerprint of the secret its webhook was last given (GitHub never shows it back). */
  webhookSecretFingerprint: `${GROUP}/webhook-secret-fingerprint`,
} as const;

export const FINALIZERS = {
  /** Held by the repository controller until the GitHub webhook is removed. */
  webhook: `${GROUP}/webhook`,
} as const;
