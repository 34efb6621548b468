import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parse } from "yaml";
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";
import { pruneObject } from "./index.ts";

const crdSchema = (file: string): JSONSchemaProps =>
  parse(readFileSync(new URL(`../../../manifests/crds/${file}`, import.meta.url), "utf8")).spec.versions[0]
    .schema.openAPIV3Schema;

const schema: JSONSchemaProps = {
  type: "object",
  properties: {
    spec: {
      type: "object",
      properties: {
        name: { type: "string" },
        steps: { type: "array", items: { type: "object", properties: { run: { type: "string" } } } },
        env: {
          type: "object",
          additionalProperties: { type: "object", properties: { value: { type: "string" } } },
        },
        free: {
          type: "object",
          "x-kubernetes-preserve-unknown-fields": true,
          properties: { known: { type: "object", properties: { a: { type: "string" } } } },
        },
        any: { "x-kubernetes-preserve-unknown-fields": true },
        template: {
          type: "object",
          "x-kubernetes-embedded-resource": true,
          properties: { spec: { type: "object", properties: { image: { type: "string" } } } },
        },
        optional: { type: "string" },
        nullable: { type: "string", nullable: true },
        defaulted: { type: "string", default: "x" },
        scalar: { type: "string" },
      },
    },
  },
};

const cases: { name: string; input: unknown; value: unknown; unknown: string[] }[] = [
  {
    name: "keeps root apiVersion, kind and metadata though the schema names none of them",
    input: {
      apiVersion: "a/v1",
      kind: "K",
      metadata: { name: "n", labels: { a: "b" } },
      spec: { name: "x" },
    },
    value: {
      apiVersion: "a/v1",
      kind: "K",
      metadata: { name: "n", labels: { a: "b" } },
      spec: { name: "x" },
    },
    unknown: [],
  },
  {
    name: "drops unknown fields at every level, reporting kube's paths sorted",
    input: {
      spec: { name: "x", zeta: 1, alpha: { deep: true }, steps: [{ run: "a", extra: 1 }, { run: "b" }] },
      top: 1,
    },
    value: { spec: { name: "x", steps: [{ run: "a" }, { run: "b" }] } },
    unknown: ["spec.alpha", "spec.steps[0].extra", "spec.zeta", "top"],
  },
  {
    name: "prunes inside map values (additionalProperties), naming the key with a dot",
    input: { spec: { env: { A: { value: "1", secret: "s" } } } },
    value: { spec: { env: { A: { value: "1" } } } },
    unknown: ["spec.env.A.secret"],
  },
  {
    name: "x-kubernetes-preserve-unknown-fields keeps unknown keys but still prunes specified children",
    input: {
      spec: { free: { anything: { goes: 1 }, known: { a: "1", b: "2" } }, any: { x: [1, { y: 2 }] } },
    },
    value: { spec: { free: { anything: { goes: 1 }, known: { a: "1" } }, any: { x: [1, { y: 2 }] } } },
    unknown: ["spec.free.known.b"],
  },
  {
    name: "an embedded resource keeps its own apiVersion, kind and metadata",
    input: {
      spec: {
        template: {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "p", bogus: 1 },
          spec: { image: "i", x: 1 },
          y: 2,
        },
      },
    },
    value: {
      spec: { template: { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { image: "i" } } },
    },
    unknown: ["spec.template.spec.x", "spec.template.y", "spec.template.metadata.bogus"],
  },
  {
    name: "unknown ObjectMeta fields are dropped after the schema's (as ObjectMeta decoding does)",
    input: { metadata: { name: "n", colour: "red" }, spec: { zz: 1 } },
    value: { metadata: { name: "n" }, spec: {} },
    unknown: ["spec.zz", "metadata.colour"],
  },
  {
    name: "a non-nullable null without a default disappears; nullable and defaulted nulls stay",
    input: { spec: { optional: null, nullable: null, defaulted: null } },
    value: { spec: { nullable: null, defaulted: null } },
    unknown: [],
  },
  {
    name: "an object where a string is specified loses its keys (validation then rejects the type)",
    input: { spec: { scalar: { a: 1 } } },
    value: { spec: { scalar: {} } },
    unknown: ["spec.scalar.a"],
  },
  {
    name: "keys named like Object.prototype members are unknown fields like any other",
    input: { spec: { name: "x", toString: 1, valueOf: { a: 1 }, constructor: "c" } },
    value: { spec: { name: "x" } },
    unknown: ["spec.constructor", "spec.toString", "spec.valueOf"],
  },
];

describe("pruneObject", () => {
  for (const c of cases) {
    test(c.name, () => {
      const before = structuredClone(c.input);
      const result = pruneObject(c.input, schema);
      assert.deepEqual(result.value, c.value);
      assert.deepEqual(result.unknownFields, c.unknown);
      assert.deepEqual(c.input, before, "the input is not modified");
    });
  }

  test("Kiln's Build CRD prunes a field it lacks and keeps the example intact", () => {
    const build = parse(
      readFileSync(new URL("../../../manifests/examples/build.yaml", import.meta.url), "utf8"),
    );
    const same = pruneObject(build, crdSchema("builds.kiln.dev.yaml"));
    assert.deepEqual(same, { value: build, unknownFields: [] });
    const extra = {
      ...build,
      spec: { ...build.spec, priority: "high" },
      status: { phase: "Running", node: "n1" },
    };
    const pruned = pruneObject(extra, crdSchema("builds.kiln.dev.yaml"));
    assert.deepEqual(pruned.unknownFields, ["spec.priority", "status.node"]);
    assert.deepEqual(pruned.value, { ...build, status: { phase: "Running" } });
  });
});
