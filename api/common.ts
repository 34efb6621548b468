import { z } from "zod";
import { DURATION_PATTERN } from "./duration.ts";
import { API_VERSION } from "./group.ts";

export const secretKeyRef = z
  .object({
    name: z.string().min(1).describe("Name of a Secret in the resource's namespace."),
    key: z.string().min(1).describe("Key within that Secret."),
  })
  .describe("A key of a Secret in the same namespace.");
export type SecretKeyRef = z.infer<typeof secretKeyRef>;

export const duration = z
  .string()
  .regex(new RegExp(DURATION_PATTERN))
  .describe('A duration such as "90s", "10m" or "1h30m".');

/** metav1.Condition, as every Kubernetes API uses it. */
export const condition = z.object({
  type: z.string().min(1).describe("Type of condition, in CamelCase."),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string().min(1).describe("A CamelCase reason for the last transition."),
  message: z.string().optional().describe("A human readable message about the transition."),
  lastTransitionTime: z.string().describe("When the condition last changed status (RFC 3339)."),
  observedGeneration: z.int().min(0).optional(),
});
export type Condition = z.infer<typeof condition>;

/** The metadata Kiln reads; the API server owns the rest, so the object schema keeps it open. */
export const objectMeta = z.looseObject({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.int().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z.array(z.looseObject({})).optional(),
});
export type ObjectMeta = z.infer<typeof objectMeta>;

/** core/v1 Toleration: a build pod may run on nodes tainted so. */
export const toleration = z
  .object({
    key: z.string().optional(),
    operator: z.enum(["Exists", "Equal"]).optional(),
    value: z.string().optional(),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
    tolerationSeconds: z.int().optional(),
  })
  .describe("A toleration, as in a pod's spec.tolerations.");
export type Toleration = z.infer<typeof toleration>;

/** Where build pods run and what they pull their images with. */
export const buildPodPlacement = z
  .object({
    nodeSelector: z
      .record(z.string(), z.string())
      .optional()
      .describe("Node labels build pods must match (added to Kiln's defaults)."),
    tolerations: z.array(toleration).optional().describe("Tolerations of build pods (added to Kiln's)."),
    imagePullSecrets: z
      .array(z.string().min(1))
      .optional()
      .describe("Secrets in this namespace to pull the pipeline's images with (added to Kiln's)."),
  })
  .describe("Scheduling and image pulls of this repository's build pods.");
export type BuildPodPlacement = z.infer<typeof buildPodPlacement>;

/** A Kiln resource's schema: apiVersion, kind, metadata, spec and an optional status. */
export function resource<K extends string, S extends z.ZodType, T extends z.ZodType>(
  kind: K,
  spec: S,
  status: T,
) {
  return z.object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: objectMeta,
    spec,
    status: status.optional(),
  });
}
