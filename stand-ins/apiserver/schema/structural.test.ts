import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parse } from "yaml";
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";
import { checkStructuralSchema, formatFieldError } from "./index.ts";

const P = "spec.versions[0].schema.openAPIV3Schema";
const root = (spec: JSONSchemaProps): JSONSchemaProps => ({ type: "object", properties: { spec } });

const cases: { name: string; schema: JSONSchemaProps; errors: string[] }[] = [
  {
    name: "a node of an object without a type",
    schema: root({ type: "object", properties: { a: {} } }),
    errors: [
      `${P}.properties[spec].properties[a].type: Required value: must not be empty for specified object fields`,
    ],
  },
  {
    name: "array items without a type",
    schema: root({ type: "array", items: {} }),
    errors: [`${P}.properties[spec].items.type: Required value: must not be empty for specified array items`],
  },
  {
    name: "the root without a type",
    schema: { properties: { spec: { type: "object" } } },
    errors: [`${P}.type: Required value: must not be empty at the root`],
  },
  {
    name: "the root must be an object",
    schema: { type: "string" },
    errors: [`${P}.type: Invalid value: "string": must be object at the root`],
  },
  {
    name: "preserve-unknown-fields and int-or-string need no type",
    schema: root({
      type: "object",
      properties: {
        free: { "x-kubernetes-preserve-unknown-fields": true },
        port: { "x-kubernetes-int-or-string": true },
      },
    }),
    errors: [],
  },
  {
    name: "int-or-string cannot also preserve unknown fields",
    schema: root({
      type: "object",
      properties: {
        port: { "x-kubernetes-int-or-string": true, "x-kubernetes-preserve-unknown-fields": true },
      },
    }),
    errors: [
      `${P}.properties[spec].properties[port].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true`,
    ],
  },
  {
    name: "additionalProperties at the root",
    schema: { type: "object", additionalProperties: { type: "string" } },
    errors: [`${P}.additionalProperties: Forbidden: must not be used at the root`],
  },
  {
    name: "a default in top-level metadata",
    schema: {
      type: "object",
      properties: { metadata: { type: "object", properties: { name: { type: "string", default: "x" } } } },
    },
    errors: [
      `${P}.properties[metadata].properties[name].default: Forbidden: must not be set in top-level metadata`,
    ],
  },
  {
    name: "type null and unknown types",
    schema: root({ type: "object", properties: { a: { type: "null" }, b: { type: "date" } } }),
    errors: [
      `${P}.properties[spec].properties[a].type: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string"`,
      `${P}.properties[spec].properties[a].type: Forbidden: type cannot be set to null, use nullable as an alternative`,
      `${P}.properties[spec].properties[b].type: Unsupported value: "date": supported values: "array", "boolean", "integer", "number", "object", "string"`,
    ],
  },
  {
    name: "list-map-keys without list-type map",
    schema: root({
      type: "array",
      "x-kubernetes-list-type": "set",
      "x-kubernetes-list-map-keys": ["a"],
      items: { type: "string" },
    }),
    errors: [
      `${P}.properties[spec].x-kubernetes-list-type: Invalid value: "set": must be map if x-kubernetes-list-map-keys is non-empty`,
    ],
  },
  {
    name: "properties together with additionalProperties",
    schema: root({
      type: "object",
      properties: { a: { type: "string" } },
      additionalProperties: { type: "string" },
    }),
    errors: [
      `${P}.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
    ],
  },
  {
    name: "uniqueItems",
    schema: root({ type: "array", uniqueItems: true, items: { type: "string" } }),
    errors: [
      `${P}.properties[spec].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`,
    ],
  },
  {
    name: "an array without items",
    schema: root({ type: "array" }),
    errors: [`${P}.properties[spec].items: Required value: must be specified`],
  },
  {
    name: "preserve-unknown-fields: false",
    schema: root({ type: "object", "x-kubernetes-preserve-unknown-fields": false }),
    errors: [
      `${P}.properties[spec].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`,
    ],
  },
  {
    name: "root metadata restricting more than name and generateName",
    schema: {
      type: "object",
      properties: { metadata: { type: "object", properties: { labels: { type: "object" } } } },
    },
    errors: [
      `${P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
    ],
  },
  {
    name: "root metadata restricting name is fine",
    schema: {
      type: "object",
      properties: { metadata: { type: "object", properties: { name: { type: "string", maxLength: 20 } } } },
    },
    errors: [],
  },
  {
    name: "root kind must be a string",
    schema: { type: "object", properties: { kind: { type: "integer" } } },
    errors: [`${P}.properties[kind].type: Invalid value: "integer": must be string`],
  },
  {
    name: "an embedded resource must be an object with properties or preserve-unknown-fields",
    schema: root({ type: "string", "x-kubernetes-embedded-resource": true }),
    errors: [
      // Structural errors come sorted, as kube sorts them.
      `${P}.properties[spec].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields`,
      `${P}.properties[spec].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true`,
    ],
  },
  {
    name: "list-type map needs keys that are required item properties",
    schema: root({
      type: "array",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
      items: { type: "object", properties: { name: { type: "string" } } },
    }),
    errors: [
      `${P}.properties[spec].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property`,
    ],
  },
  {
    name: "a set of objects whose map type is not atomic (the value reported is the map type)",
    schema: root({
      type: "array",
      "x-kubernetes-list-type": "set",
      // map-type is not in the typed schema (Kiln's CRDs never use it), but kube checks it.
      items: {
        type: "object",
        "x-kubernetes-map-type": "granular",
        properties: { a: { type: "string" } },
      } as JSONSchemaProps,
    }),
    errors: [
      `${P}.properties[spec].items.x-kubernetes-map-type: Invalid value: "granular": must be atomic as item of a list with x-kubernetes-list-type=set`,
    ],
  },
  {
    name: "an unknown list type",
    schema: root({ type: "array", "x-kubernetes-list-type": "bag", items: { type: "string" } }),
    errors: [
      `${P}.properties[spec].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map"`,
    ],
  },
  {
    name: "a default that does not validate",
    schema: root({ type: "object", properties: { n: { type: "integer", default: "ten" } } }),
    errors: [
      `${P}.properties[spec].properties[n].default: Invalid value: "string":  in body must be of type integer: "string"`,
    ],
  },
  {
    name: "a default with unknown fields",
    schema: root({
      type: "object",
      properties: { o: { type: "object", default: { a: 1, b: 2 }, properties: { a: { type: "integer" } } } },
    }),
    errors: [
      `${P}.properties[spec].properties[o].default: Invalid value: map[string]interface {}{"a":1, "b":2}: must not have unknown fields`,
    ],
  },
];

describe("checkStructuralSchema", () => {
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(checkStructuralSchema(c.schema).map(formatFieldError), c.errors);
    });
  }

  test("a pattern that does not compile (the reason is the JavaScript engine's, not Go's)", () => {
    const errors = checkStructuralSchema(root({ type: "string", pattern: "([a-z]" })).map(formatFieldError);
    assert.equal(errors.length, 1);
    assert.match(
      errors[0]!,
      /^spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.pattern: Invalid value: "\(\[a-z\]": must be a valid regular expression, but isn't: .+/,
    );
  });

  test("the path of the schema inside the CRD is the caller's", () => {
    assert.deepEqual(
      checkStructuralSchema({ type: "object", properties: { a: {} } }, "x").map((e) => e.field),
      ["x.properties[a].type"],
    );
  });

  for (const file of ["builds.kiln.dev.yaml", "repositories.kiln.dev.yaml"]) {
    test(`Kiln's own ${file} is structural`, () => {
      const crd = parse(readFileSync(new URL(`../../../manifests/crds/${file}`, import.meta.url), "utf8"));
      assert.deepEqual(checkStructuralSchema(crd.spec.versions[0].schema.openAPIV3Schema), []);
    });
  }
});
