// Argument parsing of the people commands: kubectl's connection options on every one of them, each
// command's own, and positionals (those after `--` apart: `kiln exec <build> -- <command>`). Pure.
import { type ParseArgsConfig, parseArgs } from "node:util";

/** A mistake in how the command was called: exit code 2, with the usage. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const CONNECTION_OPTIONS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  namespace: { type: "string", short: "n" },
  // Answered before parsing (command.ts); declared so that it is no unknown option.
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

/** Where to find the cluster and the Builds, as kubectl's flags of the same names say it. */
export interface Connection {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

type Options = NonNullable<ParseArgsConfig["options"]>;
type Config<O extends Options> = {
  args: string[];
  options: typeof CONNECTION_OPTIONS & O;
  allowPositionals: true;
  strict: true;
  tokens: true;
};

export interface Parsed<O extends Options> {
  connection: Connection;
  values: ReturnType<typeof parseArgs<Config<O>>>["values"];
  /** Positionals before `--`. */
  positionals: string[];
  /** What follows `--`, if it was given. */
  rest: string[] | undefined;
}

/** node:util's messages, without the advice that does not fit here. */
function message(error: unknown): string {
  const e = error as { code?: string; message?: string };
  const text = e.message ?? String(error);
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return text.replace(/\. To specify a positional.*$/s, "");
  return text;
}

export function parseCommand<const O extends Options>(args: readonly string[], options: O): Parsed<O> {
  const config: Config<O> = {
    args: [...args],
    options: { ...CONNECTION_OPTIONS, ...options },
    allowPositionals: true,
    strict: true,
    tokens: true,
  };
  let parsed: ReturnType<typeof parseArgs<Config<O>>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    throw new UsageError(message(error));
  }
  const end = parsed.tokens.find((t) => t.kind === "option-terminator")?.index;
  const positional = parsed.tokens.filter((t) => t.kind === "positional");
  const values = parsed.values as Record<string, unknown>;
  for (const name of ["kubeconfig", "context", "namespace"] as const) {
    if (values[name] === "") throw new UsageError(`--${name} needs a value`);
  }
  return {
    connection: {
      kubeconfig: values.kubeconfig as string | undefined,
      context: values.context as string | undefined,
      namespace: values.namespace as string | undefined,
    },
    values: parsed.values,
    positionals: positional.filter((t) => end === undefined || t.index < end).map((t) => t.value),
    rest: end === undefined ? undefined : positional.filter((t) => t.index > end).map((t) => t.value),
  };
}

/** The positionals, checked against how many the command takes. */
export function expectPositionals(parsed: { positionals: string[] }, min: number, max: number, what: string) {
  const n = parsed.positionals.length;
  if (n < min) throw new UsageError(`expected ${what}`);
  if (n > max) throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`);
  return parsed.positionals;
}

/** A whole number option (`--limit 20`), or undefined when not given. */
export function positiveInt(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value))
    throw new UsageError(`--${option} wants a positive whole number, not "${value}"`);
  return Number(value);
}
