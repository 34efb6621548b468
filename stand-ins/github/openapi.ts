// GitHub's own OpenAPI description (@octokit/openapi) as the judge of the fake: every response the fake
// sends is validated against the operation's schema for that status, every request body against the
// operation's request schema (422 like GitHub when it does not fit).
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

const require = createRequire(import.meta.url);

interface Operation {
  operationId: string;
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema?: unknown }> }>;
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };
}

let loaded: { spec: Spec; ajv: Ajv } | undefined;

function load(): { spec: Spec; ajv: Ajv } {
  if (loaded) return loaded;
  const spec = require("@octokit/openapi/generated/api.github.com.json") as Spec;
  untypedNullables(spec);
  // The spec's own keywords (x-github, discriminator…) are not JSON Schema: strict off; refs are
  // resolved lazily against the whole document registered under "gh".
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, discriminator: false });
  (addFormatsModule as unknown as (ajv: Ajv) => void)(ajv);
  ajv.addSchema(spec as object, "gh");
  loaded = { spec, ajv };
  return loaded;
}

// OpenAPI 3.0 allows `nullable` beside allOf/anyOf without a `type`; ajv does not. Rewrite those nodes
// into the equivalent anyOf [schema, null] once, in place.
function untypedNullables(node: unknown): void {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const item of node) untypedNullables(item);
    return;
  }
  const record = node as Record<string, unknown>;
  for (const value of Object.values(record)) untypedNullables(value);
  if (record.nullable === true && record.type === undefined) {
    const { nullable: _nullable, description, ...rest } = record;
    for (const key of Object.keys(record)) delete record[key];
    Object.assign(record, {
      ...(description !== undefined && { description }),
      anyOf: [rest, { type: "null" }],
    });
  }
}

const compiled = new Map<string, ValidateFunction | null>();

function pointer(...parts: string[]): string {
  return parts.map((part) => part.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
}

function validator(key: string, make: () => string | undefined): ValidateFunction | null {
  if (compiled.has(key)) return compiled.get(key)!;
  const ref = make();
  const fn = ref === undefined ? null : load().ajv.compile({ $ref: `gh#/${ref}` });
  compiled.set(key, fn);
  return fn;
}

export function operation(method: string, template: string): Operation {
  const op = load().spec.paths[template]?.[method.toLowerCase()];
  if (!op) throw new Error(`GitHub's OpenAPI description has no ${method} ${template}`);
  return op;
}

function responseRef(method: string, template: string, status: number): string | undefined {
  const op = operation(method, template);
  const listed = op.responses[String(status)];
  if (listed) {
    let base = pointer("paths", template, method.toLowerCase(), "responses", String(status));
    let response = listed;
    if (listed.$ref) {
      const name = listed.$ref.replace("#/components/responses/", "");
      base = pointer("components", "responses", name);
      response = load().spec.components.responses[name]!;
    }
    if (!response.content?.["application/json"]?.schema) return undefined;
    return `${base}/content/${pointer("application/json")}/schema`;
  }
  // Statuses the operation does not list (401, 403, 429, 5xx) carry GitHub's basic error.
  if (status >= 400) return pointer("components", "schemas", "basic-error");
  throw new Error(`${method} ${template} does not answer ${status} in GitHub's OpenAPI description`);
}

function describeErrors(fn: ValidateFunction): string {
  return (fn.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || "/"} ${e.message}`)
    .join("; ");
}

/** Problems with a response body, or undefined when it matches the operation's schema. */
export function checkResponse(
  method: string,
  template: string,
  status: number,
  body: unknown,
): string | undefined {
  let fn: ValidateFunction | null;
  try {
    fn = validator(`res ${method} ${template} ${status}`, () => responseRef(method, template, status));
  } catch (err) {
    return (err as Error).message;
  }
  if (fn === null) return body === undefined || body === "" ? undefined : `${status} has no body in the spec`;
  return fn(body) ? undefined : describeErrors(fn);
}

/** Problems with a request body, or undefined when it matches (or the operation takes none). */
export function checkRequest(method: string, template: string, body: unknown): string | undefined {
  const fn = validator(`req ${method} ${template}`, () =>
    operation(method, template).requestBody?.content?.["application/json"]?.schema
      ? `${pointer("paths", template, method.toLowerCase(), "requestBody", "content", "application/json")}/schema`
      : undefined,
  );
  if (fn === null) return undefined;
  return fn(body ?? {}) ? undefined : describeErrors(fn);
}
