// The .kiln.yaml schema. Objects are strict so a misspelt key is an error (with a suggestion), not
// something silently ignored. Steps are checked one by one against the schema their `type` picks.
import { z } from "zod";
import { parseDuration } from "../api/duration.ts";

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_. ]{0,61}[A-Za-z0-9_.])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A duration as written ("90s", "10m", "1h30m"), turned into milliseconds. */
export const durationMs = z.union([z.string(), z.number()]).transform((value, ctx) => {
  if (typeof value === "number") {
    ctx.addIssue({
      code: "custom",
      message: `a duration needs a unit: write "${value}s" or "${value}m", not ${value}`,
    });
    return z.NEVER;
  }
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" is not a duration: write it like 90s, 10m or 1h30m`,
    });
    return z.NEVER;
  }
  return ms;
});

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

const service = z
  .strictObject({
    name: z.string().regex(DNS_LABEL, "a service name is a lowercase DNS label, such as postgres"),
    image: z.string().min(1),
    env: envMap.optional(),
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

const cache = z.strictObject({
  key: z.string().min(1),
  paths: z.array(z.string().min(1)).min(1, "list at least one path to cache"),
  files: z.array(z.string().min(1)).optional(),
});

const secret = z.strictObject({
  env: z.string().regex(ENV_NAME, "env must be an environment variable name"),
  secretRef: z.strictObject({ name: z.string().min(1), key: z.string().min(1) }),
});

/** Everything but the steps, which are checked one by one (see manifest.ts). */
export const manifestShape = z.strictObject({
  image: z.string().min(1).optional(),
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
  services: Service[];
  env: Record<string, string>;
  steps: Step[];
  /** Overall deadline in ms, if the manifest sets one. */
  timeout?: number;
  /** Designed, validated, not applied yet. */
  cache?: z.output<typeof cache>;
  /** Designed, validated, not applied yet (and never for forks). */
  secrets: z.output<typeof secret>[];
}

export function isPause(step: Step): step is PauseStep {
  return step.type === "pause";
}
