// The parts of GitHub's webhook payloads that Kiln reads, as zod schemas: a payload that lacks them
// is a 400 with the path of the missing field, not a TypeError deep inside a handler. Plain (stripping)
// objects: only the fields named here are visited, which matters for 25 MB payloads and for throughput.
import { z } from "zod";

const repository = z.object({
  full_name: z.string().min(1),
  name: z.string().min(1),
  owner: z.object({ login: z.string().min(1) }),
});

const person = z.object({ name: z.string().optional(), username: z.string().optional() });

export const pushEvent = z.object({
  ref: z.string().min(1),
  before: z.string(),
  after: z.string(),
  deleted: z.boolean().optional(),
  compare: z.string().optional(),
  repository,
  head_commit: z
    .looseObject({ id: z.string(), message: z.string().optional(), author: person.optional() })
    .nullish(),
  pusher: z.object({ name: z.string().optional() }).optional(),
});
export type PushEvent = z.infer<typeof pushEvent>;

const prSide = z.object({
  ref: z.string().min(1),
  sha: z.string().min(1),
  // null when the fork the pull request came from has been deleted.
  repo: z.object({ full_name: z.string().min(1) }).nullable(),
});

export const pullRequestEvent = z.object({
  action: z.string().min(1),
  number: z.int().min(1),
  /** On synchronize: the head sha before the push. */
  before: z.string().optional(),
  repository,
  pull_request: z.object({
    number: z.int().min(1),
    title: z.string().optional(),
    html_url: z.string().optional(),
    user: z.object({ login: z.string() }).nullish(),
    head: prSide,
    base: prSide,
  }),
});
export type PullRequestEvent = z.infer<typeof pullRequestEvent>;

/** Any event: only the repository it names, when it names one (organization hooks do not). */
export const anyEvent = z.object({ repository: repository.optional(), zen: z.string().optional() });
export type AnyEvent = z.infer<typeof anyEvent>;
