import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";
import { type FieldError, formatFieldError, validateObject } from "./index.ts";

// One field at a time under spec, so each case shows exactly the error kube-apiserver reports for it.
const withField = (field: JSONSchemaProps, required = false): JSONSchemaProps => ({
  type: "object",
  properties: {
    spec: { type: "object", properties: { f: field }, ...(required ? { required: ["f"] } : {}) },
  },
});

type Case = {
  name: string;
  schema: JSONSchemaProps;
  value: unknown;
  errors: [FieldError["reason"], string, string][];
};
const f = "spec.f";

const cases: Case[] = [
  { name: "valid string", schema: withField({ type: "string" }), value: "x", errors: [] },
  {
    name: "required field missing",
    schema: withField({ type: "string" }, true),
    value: undefined,
    errors: [["FieldValueRequired", f, "Required value"]],
  },
  {
    name: "string where an integer is wanted",
    schema: withField({ type: "integer" }),
    value: "3",
    errors: [
      [
        "FieldValueTypeInvalid",
        f,
        'Invalid value: "string": spec.f in body must be of type integer: "string"',
      ],
    ],
  },
  {
    name: "fraction where an integer is wanted",
    schema: withField({ type: "integer" }),
    value: 1.5,
    errors: [
      [
        "FieldValueTypeInvalid",
        f,
        'Invalid value: "number": spec.f in body must be of type integer: "number"',
      ],
    ],
  },
  { name: "integer where a number is wanted", schema: withField({ type: "number" }), value: 2, errors: [] },
  {
    name: "object where a string is wanted",
    schema: withField({ type: "string" }),
    value: {},
    errors: [
      [
        "FieldValueTypeInvalid",
        f,
        'Invalid value: "object": spec.f in body must be of type string: "object"',
      ],
    ],
  },
  {
    name: "array where an object is wanted",
    schema: withField({ type: "object" }),
    value: [],
    errors: [
      ["FieldValueTypeInvalid", f, 'Invalid value: "array": spec.f in body must be of type object: "array"'],
    ],
  },
  {
    name: "null for a non-nullable field",
    schema: withField({ type: "boolean" }),
    value: null,
    errors: [
      ["FieldValueTypeInvalid", f, 'Invalid value: "null": spec.f in body must be of type boolean: "null"'],
    ],
  },
  {
    name: "null for a nullable field",
    schema: withField({ type: "string", nullable: true }),
    value: null,
    errors: [],
  },
  {
    name: "int-or-string takes an integer",
    schema: withField({ "x-kubernetes-int-or-string": true }),
    value: 80,
    errors: [],
  },
  {
    name: "int-or-string takes a string",
    schema: withField({ "x-kubernetes-int-or-string": true }),
    value: "80%",
    errors: [],
  },
  {
    name: "int-or-string refuses a boolean",
    schema: withField({ "x-kubernetes-int-or-string": true }),
    value: true,
    errors: [
      [
        "FieldValueTypeInvalid",
        f,
        'Invalid value: "boolean": spec.f in body must be of type integer,string: "boolean"',
      ],
    ],
  },
  {
    name: "enum",
    schema: withField({ type: "string", enum: ["a", "b"] }),
    value: "x",
    errors: [["FieldValueNotSupported", f, 'Unsupported value: "x": supported values: "a", "b"']],
  },
  {
    name: "enum of numbers prints them as JSON",
    schema: withField({ type: "integer", enum: [1, 2] }),
    value: 3,
    errors: [["FieldValueNotSupported", f, 'Unsupported value: 3: supported values: "1", "2"']],
  },
  {
    name: "pattern",
    schema: withField({ type: "string", pattern: "^[0-9a-f]{40}$" }),
    value: "abc",
    errors: [
      ["FieldValueInvalid", f, "Invalid value: \"abc\": spec.f in body should match '^[0-9a-f]{40}$'"],
    ],
  },
  {
    name: "minLength",
    schema: withField({ type: "string", minLength: 1 }),
    value: "",
    errors: [["FieldValueInvalid", f, 'Invalid value: "": spec.f in body should be at least 1 chars long']],
  },
  {
    name: "maxLength counts characters, not UTF-16 units",
    schema: withField({ type: "string", maxLength: 2 }),
    value: "🙂🙂",
    errors: [],
  },
  {
    name: "maxLength",
    schema: withField({ type: "string", maxLength: 3 }),
    value: "abcd",
    errors: [["FieldValueTooLong", f, "Too long: may not be more than 3 bytes"]],
  },
  {
    name: "maxLength is checked before minLength and pattern, and stops there",
    schema: withField({ type: "string", maxLength: 3, pattern: "^a$" }),
    value: "bbbb",
    errors: [["FieldValueTooLong", f, "Too long: may not be more than 3 bytes"]],
  },
  {
    name: "minimum on an integer",
    schema: withField({ type: "integer", minimum: 1 }),
    value: 0,
    errors: [
      ["FieldValueInvalid", f, "Invalid value: 0: spec.f in body should be greater than or equal to 1"],
    ],
  },
  {
    name: "maximum on a number prints the bound as Go's %v",
    schema: withField({ type: "number", maximum: 1000000 }),
    value: 1000000.5,
    errors: [
      [
        "FieldValueInvalid",
        f,
        "Invalid value: 1.0000005e+06: spec.f in body should be less than or equal to 1e+06",
      ],
    ],
  },
  {
    name: "maxItems",
    schema: withField({ type: "array", maxItems: 2, items: { type: "string" } }),
    value: ["a", "b", "c"],
    errors: [["FieldValueTooMany", f, "Too many: 3: must have at most 2 items"]],
  },
  {
    name: "minItems",
    schema: withField({ type: "array", minItems: 1, items: { type: "string" } }),
    value: [],
    errors: [["FieldValueInvalid", f, "Invalid value: 0: spec.f in body should have at least 1 items"]],
  },
  {
    name: "uniqueItems",
    schema: withField({ type: "array", uniqueItems: true, items: { type: "integer" } }),
    value: [1, 1],
    errors: [["FieldValueInvalid", f, 'Invalid value: "": spec.f in body shouldn\'t contain duplicates']],
  },
  {
    name: "items are checked before the list's own bounds, with [i] paths",
    schema: withField({ type: "array", minItems: 3, items: { type: "string", minLength: 2 } }),
    value: ["ok", "x"],
    errors: [
      [
        "FieldValueInvalid",
        "spec.f[1]",
        'Invalid value: "x": spec.f[1] in body should be at least 2 chars long',
      ],
      ["FieldValueInvalid", f, "Invalid value: 2: spec.f in body should have at least 3 items"],
    ],
  },
  {
    name: "list-type set refuses duplicates",
    schema: withField({ type: "array", "x-kubernetes-list-type": "set", items: { type: "string" } }),
    value: ["a", "b", "a"],
    errors: [["FieldValueDuplicate", "spec.f[2]", 'Duplicate value: "a"']],
  },
  {
    name: "list-type map refuses duplicate keys",
    schema: withField({
      type: "array",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
      items: {
        type: "object",
        required: ["name"],
        properties: { name: { type: "string" }, port: { type: "integer" } },
      },
    }),
    value: [
      { name: "a", port: 1 },
      { name: "a", port: 2 },
    ],
    errors: [["FieldValueDuplicate", "spec.f[1]", 'Duplicate value: map[string]interface {}{"name":"a"}']],
  },
  {
    name: "map values are validated under spec.f.<key>",
    schema: withField({ type: "object", additionalProperties: { type: "string", minLength: 2 } }),
    value: { good: "ok", bad: "x" },
    errors: [
      [
        "FieldValueInvalid",
        "spec.f.bad",
        'Invalid value: "x": spec.f.bad in body should be at least 2 chars long',
      ],
    ],
  },
  {
    name: "nested required fields name the full path",
    schema: withField({
      type: "object",
      required: ["a", "b"],
      properties: { a: { type: "string" }, b: { type: "string" } },
    }),
    value: { a: "x" },
    errors: [["FieldValueRequired", "spec.f.b", "Required value"]],
  },
];

const formatCases: { format: string; good: string[]; bad: string[] }[] = [
  {
    format: "date-time",
    good: ["2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123+02:00", "2024-01-02t03:04:05z"],
    bad: ["2024-01-02", "yesterday", "2024-13-02T00:00:00Z", "2024-01-02T03:04:05"],
  },
  {
    format: "uri",
    good: ["https://example.com/x?y=1", "/relative/path", "mailto:a@b.c"],
    bad: ["not a uri", "https://exa mple.com", "%zz"],
  },
  {
    format: "uuid",
    good: ["123e4567-e89b-12d3-a456-426614174000", "123E4567E89B12D3A456426614174000"],
    bad: ["123", "g23e4567-e89b-12d3-a456-426614174000"],
  },
  { format: "byte", good: ["aGVsbG8=", "aGk="], bad: ["hello!", "aGVsbG8", ""] },
  { format: "email", good: ["ada@example.com", "Ada <ada@example.com>"], bad: ["ada", "ada@"] },
  { format: "ipv4", good: ["10.0.0.1"], bad: ["10.0.0.256", "::1"] },
  { format: "ipv6", good: ["::1", "fe80::1:2"], bad: ["10.0.0.1", "1:::2"] },
  { format: "cidr", good: ["10.0.0.0/8", "fd00::/8"], bad: ["10.0.0.0", "10.0.0.0/33"] },
  { format: "date", good: ["2024-02-29"], bad: ["2023-02-29", "2024-1-1"] },
  { format: "hostname", good: ["kiln.dev", "localhost"], bad: ["-bad-", "a..b"] },
];

describe("validateObject", () => {
  for (const c of cases) {
    test(c.name, () => {
      const obj = c.value === undefined ? { spec: {} } : { spec: { f: c.value } };
      const errors = validateObject(obj, c.schema).map((e) => [e.reason, e.field, e.message]);
      assert.deepEqual(errors, c.errors);
    });
  }

  for (const c of formatCases) {
    test(`format ${c.format}`, () => {
      const schema = withField({ type: "string", format: c.format });
      for (const good of c.good) assert.deepEqual(validateObject({ spec: { f: good } }, schema), [], good);
      for (const bad of c.bad) {
        assert.deepEqual(
          validateObject({ spec: { f: bad } }, schema).map((e) => e.message),
          [
            `Invalid value: ${JSON.stringify(bad)}: spec.f in body must be of type ${c.format}: ${JSON.stringify(bad)}`,
          ],
          bad,
        );
      }
    });
  }

  test("a required field is not satisfied by an Object.prototype member of the same name", () => {
    const schema = withField({
      type: "object",
      required: ["toString"],
      properties: { toString: { type: "string" } },
    });
    assert.deepEqual(validateObject({ spec: { f: {} } }, schema).map(formatFieldError), [
      "spec.f.toString: Required value",
    ]);
  });

  test("int32 and int64 are not checked: apiextensions strips those formats", () => {
    assert.deepEqual(
      validateObject({ spec: { f: 2 ** 40 } }, withField({ type: "integer", format: "int32" })),
      [],
    );
  });

  test("a formatted string field given a number reports the Go type, as kube-openapi does", () => {
    const errors = validateObject({ spec: { f: 5 } }, withField({ type: "string", format: "uri" }));
    assert.deepEqual(errors.map(formatFieldError), [
      'spec.f: Invalid value: "int64": spec.f in body must be of type uri: "int64"',
    ]);
  });

  test("a formatted string field accepts an array without complaint (a kube-openapi quirk kept on purpose)", () => {
    assert.deepEqual(
      validateObject({ spec: { f: ["x"] } }, withField({ type: "string", format: "uri" })),
      [],
    );
  });

  test("the Go quoting of strings with special characters", () => {
    const errors = validateObject({ spec: { f: 'a"b\n\u0001' } }, withField({ type: "string", enum: ["x"] }));
    assert.equal(errors[0]!.message, 'Unsupported value: "a\\"b\\n\\x01": supported values: "x"');
  });

  test("several errors come in kube's order: per value type, string, format, number, array, enum, properties, then required", () => {
    const schema: JSONSchemaProps = {
      type: "object",
      required: ["spec"],
      properties: {
        kind: { type: "string", enum: ["Build"] },
        status: {
          type: "object",
          required: ["phase"],
          properties: { phase: { type: "string" }, n: { type: "integer", minimum: 0 } },
        },
      },
    };
    assert.deepEqual(validateObject({ kind: 7, status: { n: -1 } }, schema).map(formatFieldError), [
      'kind: Invalid value: "integer": kind in body must be of type string: "integer"',
      'kind: Unsupported value: 7: supported values: "Build"',
      "status.n: Invalid value: -1: status.n in body should be greater than or equal to 0",
      "status.phase: Required value",
      "spec: Required value",
    ]);
  });
});
