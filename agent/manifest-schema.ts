// The .kiln.yaml schema. Objects are strict so a misspelt key is an error (with a suggestion), not
// something silently ignored. Steps are checked one by one against the schema their `type` picks.
import { z } from "zod";
import {
  cacheFileProblem,
  cacheKeyProblem,
  cachePathProblem,
  cachePathsProblem,
  MAX_CACHE_FILES,
  MAX_CACHE_PATHS,
} from "../api/cache.ts";
import { durationMs as durationMsSchema } from "../api/duration.ts";

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_. ]{0,61}[A-Za-z0-9_.])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A duration as written ("90s", "10m", "1h30m"), turned into milliseconds. */
export const durationMs = durationMsSchema({ positive: true });

const envValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

export const envMap = z.record(
  z
    .string()
    .regex(
      ENV_NAME,
      "an environment variable name has letters, digits and _ and does not start with a digit",
    ),
  envValue,
);

const stepName = z
  .string()
  .regex(NAME, "a step name has letters, digits, spaces, '-', '_' or '.', at most 63 characters");

const when = z.strictObject({
  branches: z.array(z.string().min(1)).min(1, "list at least one branch pattern, such as main or release/*"),
});

export const runStep = z.strictObject({
  name: stepName,
  type: z.literal("run").optional(),
  run: z.string().min(1, "the run script is empty"),
  env: envMap.optional(),
  timeout: durationMs.optional(),
  when: when.optional(),
});

export const pauseStep = z.strictObject({
  name: stepName,
  type: z.literal("pause"),
  timeout: durationMs.optional(),
  when: when.optional(),
});

export const STEP_TYPES = ["run", "pause"] as const;

// A Kubernetes quantity as people write them: 500m, 2, 1.5, 512Mi, 4G.
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const quantity = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = String(value);
  if (!QUANTITY.test(text)) {
    ctx.addIssue({
      code: "custom",
      message: `"${text}" is not a quantity: write it like 500m, 2, 512Mi or 4Gi`,
    });
    return z.NEVER;
  }
  return text;
});
const cpuMemory = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() });

/** What the build (or a service) container asks of the node; Kiln's defaults fill in the rest. */
export const resources = z.strictObject({ requests: cpuMemory.optional(), limits: cpuMemory.optional() });
export type Resources = z.output<typeof resources>;

/**
 * The user a container runs as: a uid or "uid:gid". Non-root everywhere (the build and every service)
 * lets the build pod meet Pod Security "restricted"; unset means the image's own user.
 */
export const user = z.union([z.int().min(0), z.string()]).transform((value, ctx) => {
  const m = /^(\d+)(?::(\d+))?$/.exec(String(value));
  if (!m) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" is not a user: write a uid such as 1000, or 1000:1000`,
    });
    return z.NEVER;
  }
  return { uid: Number(m[1]), ...(m[2] === undefined ? {} : { gid: Number(m[2]) }) };
});
export type User = z.output<typeof user>;

/** A command as a list of words, as a pod's `command` (no shell: write [sh, -c, "…"] for one). */
const words = z.array(z.string()).min(1, "the command is empty");

const service = z
  .strictObject({
    name: z.string().regex(DNS_LABEL, "a service name is a lowercase DNS label, such as postgres"),
    image: z.string().min(1),
    /** Replaces the image's entrypoint, as a pod's `command` does. */
    command: words.optional(),
    /** Replaces the image's default arguments (postgres -c fsync=off: `args: [-c, fsync=off]`). */
    args: z.array(z.string()).optional(),
    env: envMap.optional(),
    user: user.optional(),
    resources: resources.optional(),
    ports: z.array(z.int().min(1).max(65535)).optional(),
    ready: z
      .strictObject({
        port: z.int().min(1).max(65535).optional(),
        command: z.string().min(1).optional(),
        timeout: durationMs.optional(),
      })
      .refine((r) => (r.port === undefined) !== (r.command === undefined), {
        message: "give the readiness check either a port or a command",
      })
      .optional(),
  })
  .describe("A container that runs beside the build on localhost.");

/** Checks a string with one of api/cache.ts's rules (the message is the rule broken). */
const checked = (problem: (value: string) => string | undefined) =>
  z
    .string()
    .min(1)
    .superRefine((value, ctx) => {
      const message = problem(value);
      if (message) ctx.addIssue({ code: "custom", message });
    });

const cache = z
  .strictObject({
    key: checked(cacheKeyProblem),
    paths: z
      .array(checked(cachePathProblem))
      .min(1, "list at least one path to cache")
      .max(MAX_CACHE_PATHS, `at most ${MAX_CACHE_PATHS} paths`),
    files: z
      .array(checked(cacheFileProblem))
      .max(MAX_CACHE_FILES, `at most ${MAX_CACHE_FILES} files`)
      .optional(),
  })
  .superRefine((c, ctx) => {
    // Only once each path is valid by itself: one error for one mistake.
    if (c.paths.some((p) => cachePathProblem(p) !== undefined)) return;
    const overlap = cachePathsProblem(c.paths);
    if (overlap) ctx.addIssue({ code: "custom", path: ["paths", overlap.index], message: overlap.message });
  });

const secret = z.strictObject({
  env: z.string().regex(ENV_NAME, "env must be an environment variable name"),
  secretRef: z.strictObject({ name: z.string().min(1), key: z.string().min(1) }),
});

/** Everything but the steps, which are checked one by one (see manifest.ts). */
export const manifestShape = z.strictObject({
  image: z.string().min(1).optional(),
  /** The user the build's steps run as (the build container's runAsUser). */
  user: user.optional(),
  resources: resources.optional(),
  services: z.array(service).optional(),
  env: envMap.optional(),
  steps: z.array(z.unknown()).min(1, "the pipeline has no steps: add at least one under steps"),
  timeout: durationMs.optional(),
  cache: cache.optional(),
  secrets: z.array(secret).optional(),
});

export type RunStep = z.output<typeof runStep> & { type?: "run" };
export type PauseStep = z.output<typeof pauseStep>;
export type Step = RunStep | PauseStep;
export type Service = z.output<typeof service>;

export interface Pipeline {
  image?: string;
  user?: User;
  resources?: Resources;
  services: Service[];
  env: Record<string, string>;
  steps: Step[];
  /** Overall deadline in ms, if the manifest sets one. */
  timeout?: number;
  /** Restored before the first step, saved after a successful build (agent/cache.ts). */
  cache?: z.output<typeof cache>;
  /** Keys of Secrets as env vars of the build container, masked in the log (never for forks). */
  secrets: z.output<typeof secret>[];
}

export function isPause(step: Step): step is PauseStep {
  return step.type === "pause";
}
