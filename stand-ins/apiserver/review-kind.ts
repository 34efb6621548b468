// What a create-only review API is to the server: where it is served and how it answers.
import type { UserInfo } from "./rbac/user.ts";

export interface ReviewContext {
  /** The requesting user (after impersonation). */
  user: UserInfo;
  /** The request's namespace, for namespaced reviews. */
  namespace?: string;
  now: Date;
}

export interface ReviewKind {
  group: string;
  version: string;
  resource: string;
  kind: string;
  /** Served under /namespaces/<ns>/ (LocalSubjectAccessReview). */
  namespaced?: boolean;
  /** The review's answer: the request body with its status filled in. */
  answer(body: Record<string, unknown>, ctx: ReviewContext): Record<string, unknown>;
}
