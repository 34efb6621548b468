// What the test API server's schema engine costs per custom resource write: prune → default → validate of
// a realistic Build, against JSON.parse + JSON.stringify of the same object (the floor any server pays),
// and the Table rendering of 1,000 Builds against stringifying them. Prints both and the ratios.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { kilnCRDs } from "../api/crds.ts";
import type { JSONSchemaProps } from "../api/structural-schema.ts";
import {
  type AdditionalPrinterColumn,
  admitCustomResource,
  customResourceTable,
} from "../stand-ins/apiserver/schema/index.ts";

const crd = kilnCRDs().find((c) => c.spec.names.kind === "Build")!;
const schema = crd.spec.versions[0]!.schema.openAPIV3Schema as JSONSchemaProps;
const columns = crd.spec.versions[0]!.additionalPrinterColumns as AdditionalPrinterColumn[];
const example = parse(readFileSync(new URL("../manifests/examples/build.yaml", import.meta.url), "utf8"));
const build = {
  ...example,
  metadata: { ...example.metadata, namespace: "kiln", creationTimestamp: "2026-11-22T00:00:00Z" },
  status: {
    phase: "Succeeded",
    steps: Array.from({ length: 10 }, (_, i) => ({ name: `step-${i}`, phase: "Succeeded", exitCode: 0 })),
    conditions: [
      { type: "Ready", status: "True", reason: "Succeeded", lastTransitionTime: "2026-11-22T00:01:00Z" },
    ],
  },
};
const text = JSON.stringify(build);

// The machine is shared: baseline and candidate alternate, five rounds each, and medians are reported.
function timeOf(n: number, fn: () => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - start) / n;
}

function compare(
  name: string,
  n: number,
  baseline: [string, () => void],
  candidate: [string, () => void],
): void {
  timeOf(Math.min(n, 500), baseline[1]);
  timeOf(Math.min(n, 500), candidate[1]);
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < 5; round++) {
    a.push(timeOf(n, baseline[1]));
    b.push(timeOf(n, candidate[1]));
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[2]!;
  const ratios = a.map((x, i) => b[i]! / x);
  console.log(`${baseline[0].padEnd(48)} ${(median(a) / 1000).toFixed(2)} µs/op`);
  console.log(`${candidate[0].padEnd(48)} ${(median(b) / 1000).toFixed(2)} µs/op`);
  console.log(`${name}: ${median(ratios).toFixed(1)}x (median of 5 interleaved rounds)`);
}

compare(
  "admission ratio",
  4000,
  ["JSON.parse + JSON.stringify of a Build", () => JSON.stringify(JSON.parse(text))],
  [
    "parse + prune + default + validate + stringify",
    () => {
      const { object, errors } = admitCustomResource(JSON.parse(text), schema);
      if (errors.length) throw new Error("the sample must be valid");
      JSON.stringify(object);
    },
  ],
);

const many = Array.from({ length: 1000 }, (_, i) => ({
  ...build,
  metadata: { ...build.metadata, name: `b-${i}` },
}));
const now = new Date("2026-11-22T01:00:00Z");
compare(
  "table ratio",
  40,
  ["JSON.stringify of 1,000 Builds", () => JSON.stringify({ items: many })],
  [
    "Table of 1,000 Builds + JSON.stringify",
    () => JSON.stringify(customResourceTable(many, columns, { now })),
  ],
);
