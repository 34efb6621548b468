import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";
import { defaultObject } from "./index.ts";

const schema: JSONSchemaProps = {
  type: "object",
  properties: {
    spec: {
      type: "object",
      default: {},
      properties: {
        replicas: { type: "integer", default: 1 },
        mode: { type: "string", default: "fast" },
        maybe: { type: "string", nullable: true, default: "d" },
        history: {
          type: "object",
          default: { keep: 5 },
          properties: { keep: { type: "integer", default: 50 }, mode: { type: "string", default: "all" } },
        },
        steps: {
          type: "array",
          items: {
            type: "object",
            default: { name: "blank" },
            properties: { name: { type: "string" }, shell: { type: "string", default: "sh" } },
          },
        },
        env: {
          type: "object",
          additionalProperties: { type: "object", properties: { value: { type: "string", default: "" } } },
        },
        tags: { type: "array", default: ["a"], items: { type: "string" } },
      },
    },
  },
};

const cases: { name: string; input: unknown; expected: unknown }[] = [
  {
    name: "a missing object with a default is created and then defaulted inside",
    input: {},
    expected: {
      spec: { replicas: 1, mode: "fast", maybe: "d", history: { keep: 5, mode: "all" }, tags: ["a"] },
    },
  },
  {
    name: "present values win; nested defaults fill the rest",
    input: { spec: { replicas: 3, history: {}, tags: [] } },
    expected: {
      spec: { replicas: 3, mode: "fast", maybe: "d", history: { keep: 50, mode: "all" }, tags: [] },
    },
  },
  {
    name: "a null where the field is not nullable takes the default; a nullable null stays",
    input: { spec: { mode: null, maybe: null } },
    expected: {
      spec: { replicas: 1, mode: "fast", maybe: null, history: { keep: 5, mode: "all" }, tags: ["a"] },
    },
  },
  {
    name: "array items are defaulted, and a null item takes the items' default",
    input: { spec: { steps: [{ name: "x" }, null] } },
    expected: {
      spec: {
        replicas: 1,
        mode: "fast",
        maybe: "d",
        history: { keep: 5, mode: "all" },
        tags: ["a"],
        steps: [
          { name: "x", shell: "sh" },
          { name: "blank", shell: "sh" },
        ],
      },
    },
  },
  {
    name: "map values (additionalProperties) are defaulted",
    input: { spec: { env: { A: {}, B: { value: "b" } } } },
    expected: {
      spec: {
        replicas: 1,
        mode: "fast",
        maybe: "d",
        history: { keep: 5, mode: "all" },
        tags: ["a"],
        env: { A: { value: "" }, B: { value: "b" } },
      },
    },
  },
];

describe("defaultObject", () => {
  for (const c of cases) {
    test(c.name, () => {
      const before = structuredClone(c.input);
      assert.deepEqual(defaultObject(c.input, schema), c.expected);
      assert.deepEqual(c.input, before, "the input is not modified");
    });
  }

  test("a default is copied, never shared between objects", () => {
    const a = defaultObject({}, schema) as { spec: { tags: string[] } };
    a.spec.tags.push("mutated");
    assert.deepEqual((defaultObject({}, schema) as { spec: { tags: string[] } }).spec.tags, ["a"]);
  });

  test("values of the wrong type are left for validation to report", () => {
    assert.deepEqual(defaultObject({ spec: "text" }, schema), { spec: "text" });
    assert.deepEqual(defaultObject({ spec: { steps: "x", env: [1] } }, schema), {
      spec: {
        steps: "x",
        env: [1],
        replicas: 1,
        mode: "fast",
        maybe: "d",
        history: { keep: 5, mode: "all" },
        tags: ["a"],
      },
    });
  });
});
