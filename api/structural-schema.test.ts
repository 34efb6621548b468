// structuralSchema() turns zod schemas into structural OpenAPI; where it succeeds, zod and the API server's
// pipeline (stand-ins/apiserver/schema) must agree on what is valid and on what is stored.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { z } from "zod";
import { admitCustomResource, checkStructuralSchema } from "../stand-ins/apiserver/schema/index.ts";
import { type JSONSchemaProps, structuralSchema } from "./structural-schema.ts";

const asResource = (spec: JSONSchemaProps): JSONSchemaProps => ({ type: "object", properties: { spec } });

const cases: { name: string; zod: z.ZodType; schema: JSONSchemaProps; samples: unknown[] }[] = [
  {
    name: "a map (z.record)",
    zod: z.object({ m: z.record(z.string(), z.int()) }),
    schema: {
      type: "object",
      properties: { m: { type: "object", additionalProperties: { type: "integer" } } },
      required: ["m"],
    },
    samples: [{ m: {} }, { m: { a: 1, b: 2 } }, { m: { a: "x" } }, { m: [] }, {}],
  },
  {
    name: "a nullable field",
    zod: z.object({ n: z.string().nullable().optional() }),
    schema: { type: "object", properties: { n: { type: "string", nullable: true } } },
    samples: [{ n: null }, { n: "x" }, {}, { n: 1 }],
  },
  {
    name: "an object that keeps unknown fields (z.looseObject)",
    zod: z.object({ o: z.looseObject({ a: z.string() }) }),
    schema: {
      type: "object",
      properties: {
        o: {
          type: "object",
          properties: { a: { type: "string" } },
          required: ["a"],
          "x-kubernetes-preserve-unknown-fields": true,
        },
      },
      required: ["o"],
    },
    samples: [{ o: { a: "x", extra: { deep: [1] } } }, { o: { extra: 1 } }, { o: { a: 1 } }],
  },
  {
    name: "any value (z.unknown)",
    zod: z.object({ u: z.unknown() }),
    schema: {
      type: "object",
      properties: { u: { nullable: true, "x-kubernetes-preserve-unknown-fields": true } },
      required: ["u"],
    },
    samples: [{ u: null }, { u: { a: [1, { b: 2 }] } }, { u: "s" }, {}],
  },
  {
    name: "integers lose zod's safe-integer bounds but keep their own",
    zod: z.object({ i: z.int().min(1) }),
    schema: { type: "object", properties: { i: { type: "integer", minimum: 1 } }, required: ["i"] },
    samples: [{ i: 1 }, { i: 0 }, { i: 1.5 }, { i: "1" }],
  },
];

describe("structuralSchema", () => {
  for (const c of cases) {
    test(c.name, () => {
      const schema = structuralSchema(c.zod);
      assert.deepEqual(schema, c.schema);
      assert.deepEqual(checkStructuralSchema(asResource(schema)), [], "the result is a structural schema");
      for (const spec of c.samples) {
        const parsed = c.zod.safeParse(spec);
        const admitted = admitCustomResource({ spec }, asResource(schema));
        assert.equal(parsed.success, admitted.errors.length === 0, JSON.stringify(spec));
        if (parsed.success) assert.deepEqual({ spec: parsed.data }, admitted.object, JSON.stringify(spec));
      }
    });
  }

  test("what has no structural equivalent is refused with its path", () => {
    assert.throws(
      () => structuralSchema(z.object({ u: z.union([z.string(), z.int()]) })),
      /\.u: "anyOf" has no structural equivalent/,
    );
    assert.throws(
      () => structuralSchema(z.object({ p: z.number().positive() })),
      /\.p: "exclusiveMinimum" has no structural equivalent/,
    );
  });
});
