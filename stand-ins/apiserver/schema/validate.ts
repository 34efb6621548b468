// OpenAPI v3 validation of a custom resource against its structural schema, as kube-openapi's
// SchemaValidator runs it inside kube-apiserver, converted to field errors the way apiextensions does
// (kubeOpenAPIResultToFieldErrors), followed by the x-kubernetes-list-type set/map uniqueness checks.
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";
import {
  duplicate,
  type FieldError,
  invalid,
  notSupported,
  required,
  tooLong,
  tooMany,
  typeInvalid,
} from "./field-error.ts";
import { formatChecker } from "./formats.ts";
import { goFloat, goJSON, goNumber, goQuote, isPlainObject, jsonTypeName, propertyOf } from "./go-format.ts";

/** Validates a pruned and defaulted object. Errors come in kube's order and wording. */
export function validateObject(obj: unknown, schema: JSONSchemaProps): FieldError[] {
  const errors: FieldError[] = [];
  validateValue(obj, schema, "", errors);
  validateListTypes(obj, schema, "", errors);
  return errors;
}

// kube-openapi names fields "a.b", items "a[0]", map values "a.key".
const sub = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);
// Its messages read "<path> in body …"
// (an empty name leaves a leading space, as Go's Sprintf("%s in %s") does).
const inBody = (path: string) => `${path} in body`;

function types(s: JSONSchemaProps): string[] {
  if (s["x-kubernetes-int-or-string"]) return ["integer", "string"];
  return s.type ? [s.type] : [];
}

/** Validates one value at `path` (kube-openapi's SchemaValidator.Validate), appending to `errors`. */
export function validateValue(data: unknown, s: JSONSchemaProps, path: string, errors: FieldError[]): void {
  const format = formatChecker(s.format) ? s.format : undefined;
  if (data === null || data === undefined) {
    const t = types(s);
    if (t.length > 0 && !s.nullable) {
      errors.push(typeInvalid(path, "null", `${inBody(path)} must be of type ${t.join(",")}: "null"`));
    }
    validateEnum(null, s, path, errors);
    return;
  }
  validateType(data, s, format, path, errors);
  if (typeof data === "string") {
    validateString(data, s, path, errors);
    const check = formatChecker(format);
    if (check && !check(data)) {
      errors.push(typeInvalid(path, data, `${inBody(path)} must be of type ${format}: ${goQuote(data)}`));
    }
  }
  if (typeof data === "number") validateNumber(data, s, path, errors);
  if (Array.isArray(data)) validateArray(data, s, path, errors);
  validateEnum(data, s, path, errors);
  if (isPlainObject(data)) validateProperties(data, s, path, errors);
}

function validateType(
  data: unknown,
  s: JSONSchemaProps,
  format: string | undefined,
  path: string,
  errors: FieldError[],
): void {
  const wanted = types(s);
  if (wanted.length === 0 && !format) return;
  const actual = jsonTypeName(data);
  const isString = typeof data === "string";
  const isArray = Array.isArray(data);
  const numeric = wanted.includes("number") || wanted.includes("integer");
  const intFloat = actual === "integer" && wanted.includes("number");
  if (!isString && !isArray && format && !(wanted.includes(actual) || intFloat)) {
    // kube-openapi compares a formatted field against the Go type of the value (int64, float64, or "").
    const goFormat = actual === "integer" ? "int64" : actual === "number" ? "float64" : "";
    errors.push(
      typeInvalid(path, goFormat, `${inBody(path)} must be of type ${format}: ${goQuote(goFormat)}`),
    );
    return;
  }
  // A quirk kept on purpose: a formatted non-numeric field accepts any string or array here.
  if (!numeric && format && (isString || isArray)) return;
  if (wanted.length === 0) return;
  if (!(wanted.includes(actual) || intFloat)) {
    errors.push(
      typeInvalid(path, actual, `${inBody(path)} must be of type ${wanted.join(",")}: ${goQuote(actual)}`),
    );
  }
}

function validateString(data: string, s: JSONSchemaProps, path: string, errors: FieldError[]): void {
  // Lengths count characters (Go runes), not UTF-16 units.
  const length = s.maxLength !== undefined || s.minLength !== undefined ? [...data].length : 0;
  if (s.maxLength !== undefined && length > s.maxLength) {
    errors.push(tooLong(path, s.maxLength));
    return;
  }
  if (s.minLength !== undefined && length < s.minLength) {
    errors.push(invalid(path, data, `${inBody(path)} should be at least ${s.minLength} chars long`));
    return;
  }
  if (s.pattern !== undefined && !compilePattern(s.pattern).test(data)) {
    errors.push(invalid(path, data, `${inBody(path)} should match '${s.pattern}'`));
  }
}

const patterns = new Map<string, RegExp>();
function compilePattern(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    // Go's RE2 syntax is closest to unicode-mode JS; a few escapes Go allows are only valid without the flag.
    try {
      re = new RegExp(pattern, "u");
    } catch {
      re = new RegExp(pattern);
    }
    patterns.set(pattern, re);
  }
  return re;
}

function validateNumber(data: number, s: JSONSchemaProps, path: string, errors: FieldError[]): void {
  // An integer value is compared with the bound as int64, a fractional one as float64; messages print it so.
  const bound = (b: number) => (Number.isInteger(data) ? goNumber(Math.trunc(b)) : goFloat(b));
  if (s.maximum !== undefined && data > s.maximum) {
    errors.push(invalid(path, data, `${inBody(path)} should be less than or equal to ${bound(s.maximum)}`));
  }
  if (s.minimum !== undefined && data < s.minimum) {
    errors.push(
      invalid(path, data, `${inBody(path)} should be greater than or equal to ${bound(s.minimum)}`),
    );
  }
}

function validateArray(data: unknown[], s: JSONSchemaProps, path: string, errors: FieldError[]): void {
  if (s.items) {
    data.forEach((item, i) => {
      validateValue(item, s.items!, `${path}[${i}]`, errors);
    });
  }
  if (s.minItems !== undefined && data.length < s.minItems) {
    errors.push(invalid(path, data.length, `${inBody(path)} should have at least ${s.minItems} items`));
  }
  if (s.maxItems !== undefined && data.length > s.maxItems)
    errors.push(tooMany(path, data.length, s.maxItems));
  if (s.uniqueItems && new Set(data.map(goJSON)).size !== data.length) {
    errors.push(invalid(path, "", `${inBody(path)} shouldn't contain duplicates`));
  }
}

function validateEnum(data: unknown, s: JSONSchemaProps, path: string, errors: FieldError[]): void {
  if (!s.enum || s.enum.length === 0) return;
  if (data !== null && typeof data !== "object" && s.enum.includes(data)) return;
  const key = goJSON(data);
  if (s.enum.some((v) => goJSON(v) === key)) return;
  const supported = s.enum.map((v) => (typeof v === "string" ? v : goJSON(v)));
  errors.push(notSupported(path, data, supported));
}

function validateProperties(
  data: Record<string, unknown>,
  s: JSONSchemaProps,
  path: string,
  errors: FieldError[],
): void {
  const additional = typeof s.additionalProperties === "object" ? s.additionalProperties : undefined;
  if (additional) {
    for (const [key, value] of Object.entries(data)) {
      if (!propertyOf(s.properties, key)) validateValue(value, additional, sub(path, key), errors);
    }
  }
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    if (Object.hasOwn(data, key)) validateValue(data[key], prop, sub(path, key), errors);
  }
  for (const key of s.required ?? []) {
    if (!Object.hasOwn(data, key)) errors.push(required(sub(path, key)));
  }
}

// structurallisttype.ValidateListSetsAndMaps: list-type=set items and list-type=map keys must be unique.
function validateListTypes(
  data: unknown,
  s: JSONSchemaProps | undefined,
  path: string,
  errors: FieldError[],
): void {
  if (!s) return;
  if (Array.isArray(data)) {
    const listType = s["x-kubernetes-list-type"];
    if (listType === "set") {
      const seen = new Set<string>();
      data.forEach((item, i) => {
        const key = goJSON(item);
        if (seen.has(key)) errors.push(duplicate(`${path}[${i}]`, item));
        seen.add(key);
      });
    } else if (listType === "map") {
      const keys = s["x-kubernetes-list-map-keys"] ?? [];
      const seen = new Set<string>();
      data.forEach((item, i) => {
        if (!isPlainObject(item)) return;
        const tuple = Object.fromEntries(keys.filter((k) => Object.hasOwn(item, k)).map((k) => [k, item[k]]));
        const key = goJSON(tuple);
        if (seen.has(key)) errors.push(duplicate(`${path}[${i}]`, tuple));
        seen.add(key);
      });
    }
    data.forEach((item, i) => {
      validateListTypes(item, s.items, `${path}[${i}]`, errors);
    });
    return;
  }
  if (!isPlainObject(data)) return;
  const additional = typeof s.additionalProperties === "object" ? s.additionalProperties : undefined;
  for (const [key, value] of Object.entries(data)) {
    const prop = propertyOf(s.properties, key);
    if (prop) validateListTypes(value, prop, sub(path, key), errors);
    else if (additional) validateListTypes(value, additional, `${path}[${key}]`, errors);
  }
}
