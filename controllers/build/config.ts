// The build controller's own settings: Kiln's image for the build pod's fetch and agent containers, the
// pods' resources, scheduling and pull secrets, and the waits after which a Build is Errored. Flags win
// over environment; part of `kiln controller`'s one configuration (controllers/config.ts composes it).
import { z } from "zod";
import { toleration } from "../../api/common.ts";
import { durationMs as durationMsSchema } from "../../api/duration.ts";
import { flagSpec } from "../../lib/runtime/module.ts";
import { ConfigError } from "../errors.ts";

const durationMs = durationMsSchema({ numbersAreMs: true });

const quantities = z.object({ cpu: z.string().optional(), memory: z.string().optional() });
const resources = z.object({ requests: quantities.optional(), limits: quantities.optional() });
export type Resources = z.infer<typeof resources>;

/** The non-empty, trimmed items of a comma-separated setting. */
export function commaList(text: string): string[] {
  return text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

/** "cpu=500m,memory=512Mi" (kubectl's --requests form) into {cpu, memory}; undefined for an unset value. */
export function parseQuantities(name: string, text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const part of commaList(text)) {
    const m = /^(cpu|memory)=([0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(part);
    if (!m) throw new ConfigError(`--${name}: "${part}" is not cpu=<quantity> or memory=<quantity>`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** "key=value,key2=value2" into a map (a nodeSelector). */
export function parseLabels(name: string, text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const part of commaList(text)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new ConfigError(`--${name}: "${part}" is not key=value`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** Where build pods may run and what they pull with: the cluster's defaults (a Repository adds its own). */
const buildScheduling = z.object({
  nodeSelector: z.record(z.string(), z.string()).default({}),
  tolerations: z.array(toleration).default([]),
  imagePullSecrets: z.array(z.string().min(1)).default([]),
});
export type BuildScheduling = z.infer<typeof buildScheduling>;

export const buildConfigShape = {
  /**
   * Kiln's own image: the fetch init container and the agent sidecar. Unset in a pod: the image the
   * controller itself runs (controllers/main.ts), so an install's image override reaches build pods too.
   */
  image: z.string().min(1).optional(),
  imagePullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).default("IfNotPresent"),
  /** Uid/gid Kiln's containers run as (the image's non-root user); also the pod's fsGroup. */
  kilnUser: z.coerce.number().int().min(1).default(10001),
  buildResources: resources.default({
    requests: { cpu: "500m", memory: "512Mi" },
    limits: { memory: "4Gi" },
  }),
  serviceResources: resources.default({
    requests: { cpu: "100m", memory: "256Mi" },
    limits: { memory: "2Gi" },
  }),
  kilnResources: resources.default({ requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } }),
  buildScheduling: buildScheduling.default({ nodeSelector: {}, tolerations: [], imagePullSecrets: [] }),
  /** A pod that cannot be scheduled for this long makes its Build Errored. */
  unschedulableTimeoutMs: durationMs.default(300_000),
  /** How often a build whose pod was evicted or lost before any step ran gets a new pod. */
  maxRevivals: z.coerce.number().int().min(0).max(10).default(2),
  /** A pod whose containers have not started after this long (image pulls …) makes its Build Errored. */
  startTimeoutMs: durationMs.default(600_000),
};

export const BUILD_FLAGS = flagSpec([
  "image",
  "image-pull-policy",
  "build-requests",
  "build-limits",
  "service-requests",
  "service-limits",
  "build-node-selector",
  "build-tolerations",
  "build-image-pull-secrets",
  "unschedulable-timeout",
  "start-timeout",
  "max-revivals",
]);

export const BUILD_USAGE = `Builds (the build pod):
  --image <ref>                  Kiln image for fetch/agent containers [KILN_IMAGE]; in a pod, its own by default
  --image-pull-policy <p>        of that image: Always, IfNotPresent, Never [KILN_IMAGE_PULL_POLICY] (IfNotPresent)
  --build-requests <r>           build container defaults, cpu=500m,memory=512Mi [KILN_BUILD_REQUESTS]
  --build-limits <r>             [KILN_BUILD_LIMITS] (memory=4Gi); a pipeline's own resources: win
  --service-requests <r>         service container defaults [KILN_SERVICE_REQUESTS] (cpu=100m,memory=256Mi)
  --service-limits <r>           [KILN_SERVICE_LIMITS] (memory=2Gi)
  --build-node-selector <k=v,…>  nodes build pods may run on [KILN_BUILD_NODE_SELECTOR]
  --build-tolerations <json>     tolerations of build pods, a JSON list [KILN_BUILD_TOLERATIONS]
  --build-image-pull-secrets <a,b>  pull secrets of build pods (in each build namespace) [KILN_BUILD_IMAGE_PULL_SECRETS]
  --unschedulable-timeout <d>    [KILN_UNSCHEDULABLE_TIMEOUT] (5m)
  --start-timeout <d>            [KILN_START_TIMEOUT] (10m)
  --max-revivals <n>             new pods for a build evicted or lost before any step [KILN_MAX_REVIVALS] (2)`;

/** The build settings' input, from a flag-or-environment lookup; validated with the rest of the config. */
export function buildConfigInput(
  str: (flag: string, name: string) => string | undefined,
): Record<string, unknown> {
  const resourcesOf = (kind: "build" | "service"): Resources => {
    const fallback = buildConfigShape[`${kind}Resources`].parse(undefined) as Resources;
    const requests = parseQuantities(
      `${kind}-requests`,
      str(`${kind}-requests`, `KILN_${kind.toUpperCase()}_REQUESTS`),
    );
    const limits = parseQuantities(
      `${kind}-limits`,
      str(`${kind}-limits`, `KILN_${kind.toUpperCase()}_LIMITS`),
    );
    return { ...fallback, ...(requests && { requests }), ...(limits && { limits }) };
  };
  const tolerationsText = str("build-tolerations", "KILN_BUILD_TOLERATIONS");
  let tolerations: unknown;
  try {
    tolerations = tolerationsText === undefined ? undefined : JSON.parse(tolerationsText);
  } catch (err) {
    throw new ConfigError(`--build-tolerations: not JSON: ${(err as Error).message}`);
  }
  const pullSecrets = str("build-image-pull-secrets", "KILN_BUILD_IMAGE_PULL_SECRETS");
  return {
    image: str("image", "KILN_IMAGE"),
    imagePullPolicy: str("image-pull-policy", "KILN_IMAGE_PULL_POLICY"),
    buildResources: resourcesOf("build"),
    serviceResources: resourcesOf("service"),
    buildScheduling: {
      nodeSelector: parseLabels(
        "build-node-selector",
        str("build-node-selector", "KILN_BUILD_NODE_SELECTOR"),
      ),
      tolerations,
      imagePullSecrets: pullSecrets === undefined ? undefined : commaList(pullSecrets),
    },
    unschedulableTimeoutMs: str("unschedulable-timeout", "KILN_UNSCHEDULABLE_TIMEOUT"),
    startTimeoutMs: str("start-timeout", "KILN_START_TIMEOUT"),
    maxRevivals: str("max-revivals", "KILN_MAX_REVIVALS"),
  };
}
