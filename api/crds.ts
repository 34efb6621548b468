// The CustomResourceDefinitions for Repository and Build, generated from the zod schemas.
import type { z } from "zod";
import { buildSpec, buildStatus } from "./build.ts";
import { CATEGORY, GROUP, LABELS, RESOURCES, VERSION } from "./group.ts";
import { repositorySpec, repositoryStatus } from "./repository.ts";
import { structuralSchema } from "./structural-schema.ts";

interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface ResourceNames {
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
}

// JSONPath needs the dots inside a label key escaped.
const labelPath = (key: string) => `.metadata.labels.${key.replaceAll(".", "\\.")}`;

const AGE: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

export const BUILD_COLUMNS: PrinterColumn[] = [
  { name: "Repository", type: "string", jsonPath: ".spec.repository" },
  { name: "Branch", type: "string", jsonPath: ".spec.revision.branch" },
  { name: "Commit", type: "string", jsonPath: labelPath(LABELS.commit), description: "Short commit sha" },
  { name: "Phase", type: "string", jsonPath: ".status.phase" },
  { name: "Duration", type: "string", jsonPath: ".status.duration" },
  AGE,
  { name: "Trigger", type: "string", jsonPath: ".spec.trigger.event", priority: 1 },
  { name: "Message", type: "string", jsonPath: ".status.message", priority: 1 },
];

export const REPOSITORY_COLUMNS: PrinterColumn[] = [
  { name: "Owner", type: "string", jsonPath: ".spec.github.owner" },
  { name: "GitHub", type: "string", jsonPath: ".spec.github.name", description: "Repository name on GitHub" },
  { name: "Webhook", type: "string", jsonPath: '.status.conditions[?(@.type=="WebhookReady")].status' },
  { name: "Last Build", type: "string", jsonPath: ".status.lastBuild" },
  AGE,
];

function customResourceDefinition(
  names: ResourceNames,
  spec: z.ZodType,
  status: z.ZodType,
  columns: PrinterColumn[],
  description: string,
) {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${names.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: {
        kind: names.kind,
        listKind: `${names.kind}List`,
        plural: names.plural,
        singular: names.singular,
        shortNames: [...names.shortNames],
        categories: [CATEGORY],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: columns,
          schema: {
            openAPIV3Schema: {
              type: "object",
              description,
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: structuralSchema(spec),
                status: structuralSchema(status),
              },
              required: ["spec"],
            },
          },
        },
      ],
    },
  };
}

export type CustomResourceDefinition = ReturnType<typeof customResourceDefinition>;

export function kilnCRDs(): CustomResourceDefinition[] {
  return [
    customResourceDefinition(
      RESOURCES.Repository,
      repositorySpec,
      repositoryStatus,
      REPOSITORY_COLUMNS,
      "A GitHub repository that Kiln watches: pushes to it become Builds.",
    ),
    customResourceDefinition(
      RESOURCES.Build,
      buildSpec,
      buildStatus,
      BUILD_COLUMNS,
      "One run of one commit's .kiln.yaml pipeline in a build Pod.",
    ),
  ];
}
