// fast-check generators driven by a structural schema: objects the schema accepts, and single mutations
// of them (a field removed, replaced by another JSON value, or an unknown field added). For fuzzing the
// schema engine and anything that must agree with it.
import fc from "fast-check";
import type { JSONSchemaProps } from "../../../api/structural-schema.ts";

const SMALL = 1_000_000;

/** Values the schema accepts (defaulted fields may be left out, as a client may). */
export function arbitraryFor(schema: JSONSchemaProps, depth = 0): fc.Arbitrary<unknown> {
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  if (schema["x-kubernetes-int-or-string"])
    return fc.oneof(fc.integer({ min: -SMALL, max: SMALL }), fc.string());
  switch (schema.type) {
    case "string":
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: schema.maxLength ?? 12 });
    case "integer":
      return fc.integer({ min: schema.minimum ?? -SMALL, max: schema.maximum ?? SMALL });
    case "number":
      return fc.double({
        min: schema.minimum ?? -SMALL,
        max: schema.maximum ?? SMALL,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case "boolean":
      return fc.boolean();
    case "array":
      return fc.array(schema.items ? arbitraryFor(schema.items, depth + 1) : fc.string(), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 3)),
      });
    default: {
      if (schema.properties) {
        const required = new Set(schema.required ?? []);
        const keys = Object.keys(schema.properties);
        return fc.record(
          Object.fromEntries(keys.map((k) => [k, arbitraryFor(schema.properties![k]!, depth + 1)])),
          { requiredKeys: keys.filter((k) => required.has(k)) },
        );
      }
      if (typeof schema.additionalProperties === "object") {
        return fc.dictionary(safeKey, arbitraryFor(schema.additionalProperties, depth + 1), { maxKeys: 3 });
      }
      return fc.dictionary(safeKey, fc.string(), { maxKeys: 2 });
    }
  }
}

// "__proto__" is a valid JSON key but not a plain own property in JavaScript objects.
const safeKey = fc.string({ maxLength: 8 }).filter((k) => k !== "__proto__");

/** Any JSON value but null: what a client might put where something else belongs. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -SMALL, max: SMALL }),
  fc.double({ min: -SMALL, max: SMALL, noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }),
  fc.dictionary(safeKey, fc.string({ maxLength: 4 }), { maxKeys: 2 }),
  fc.constant({}),
  fc.constant([]),
);

export type Mutation =
  | { op: "remove"; path: (string | number)[] }
  | { op: "set"; path: (string | number)[]; value: unknown }
  | { op: "add"; path: (string | number)[]; key: string; value: unknown };

/** Every path to a value inside `value` (objects' keys and arrays' indexes), outermost first. */
export function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([...prefix, i], ...pathsOf(v, [...prefix, i]));
    });
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push([...prefix, k], ...pathsOf(v, [...prefix, k]));
  }
  return out;
}

/** A mutation of one of the given paths (or of an object at one of them). */
export function mutationOf(paths: (string | number)[][]): fc.Arbitrary<Mutation> {
  const path = fc.constantFrom(...paths);
  return fc.oneof(
    path.map((p): Mutation => ({ op: "remove", path: p })),
    fc.tuple(path, anyValue).map(([p, value]): Mutation => ({ op: "set", path: p, value })),
    fc
      .tuple(
        fc.constantFrom([], ...paths),
        fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== "__proto__"),
        anyValue,
      )
      .map(([p, key, value]): Mutation => ({ op: "add", path: p, key, value })),
  );
}

/** Applies a mutation to a copy. Removing an array element splices it out. */
export function applyMutation(value: unknown, mutation: Mutation): unknown {
  const copy = structuredClone(value);
  const parentPath = mutation.op === "add" ? mutation.path : mutation.path.slice(0, -1);
  let parent: unknown = copy;
  for (const key of parentPath) parent = (parent as Record<string | number, unknown>)[key];
  if (parent === null || typeof parent !== "object") return copy;
  const container = parent as Record<string | number, unknown>;
  if (mutation.op === "add") {
    if (!Array.isArray(container)) container[mutation.key] = mutation.value;
    return copy;
  }
  const last = mutation.path.at(-1)!;
  if (mutation.op === "remove") {
    if (Array.isArray(container)) container.splice(last as number, 1);
    else delete container[last];
  } else {
    container[last] = mutation.value;
  }
  return copy;
}
