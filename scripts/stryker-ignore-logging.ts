// A Stryker ignorer (`ignorers: ["logging"]`): code that only writes a log line makes no mutant. A log
// message or its fields changed, a log call or a catch that only logs dropped, a condition that only
// chooses whether to log: none is behaviour a test should pin, and each would count as a survivor.
import { declareValuePlugin, PluginKind } from "@stryker-mutator/api/plugin";

// Babel's AST, as much of it as this reads.
interface Node {
  type: string;
  [key: string]: unknown;
}

const LOG_METHODS = new Set(["trace", "debug", "info", "warn", "error", "fatal", "child"]);
const LOGGER_NAMES = new Set(["log", "logger"]);

const isNode = (value: unknown): value is Node =>
  typeof value === "object" && value !== null && typeof (value as Node).type === "string";

function propertyName(member: Node): string | undefined {
  const property = member.property;
  if (!isNode(property) || member.computed === true) return undefined;
  if (property.type === "Identifier") return property.name as string;
  // this.#log: a private name wraps its identifier.
  if (property.type === "PrivateName" && isNode(property.id)) return property.id.name as string;
  return undefined;
}

const isMember = (node: Node) => node.type === "MemberExpression" || node.type === "OptionalMemberExpression";

/** log, logger, deps.log, this.#o.log, this.#log … */
function isLogger(node: unknown): boolean {
  if (!isNode(node)) return false;
  if (node.type === "Identifier") return LOGGER_NAMES.has(node.name as string);
  if (isMember(node)) return LOGGER_NAMES.has(propertyName(node) ?? "");
  // A child logger used on the spot: log.child({…}).warn(…)
  return isLoggingCall(node);
}

/** log.warn(…), this.#o.log.child({…}), this.#log?.info(…) */
export function isLoggingCall(node: unknown): boolean {
  if (!isNode(node) || (node.type !== "CallExpression" && node.type !== "OptionalCallExpression"))
    return false;
  const callee = node.callee;
  return (
    isNode(callee) &&
    isMember(callee) &&
    LOG_METHODS.has(propertyName(callee) ?? "") &&
    isLogger(callee.object)
  );
}

/** A statement, block or function body that does nothing but log. */
export function onlyLogs(node: unknown): boolean {
  if (!isNode(node)) return false;
  switch (node.type) {
    case "ExpressionStatement":
      return isLoggingCall(node.expression);
    case "BlockStatement": {
      const body = node.body as unknown[];
      return body.length > 0 && body.every(onlyLogs);
    }
    case "IfStatement":
      return onlyLogs(node.consequent) && (node.alternate == null || onlyLogs(node.alternate));
    case "ArrowFunctionExpression":
      return isLoggingCall(node.body) || onlyLogs(node.body);
    default:
      return isLoggingCall(node);
  }
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, "logging", {
    shouldIgnore(path: { node?: unknown }) {
      return onlyLogs(path.node) ? "only logs: its message and fields are not behaviour" : undefined;
    },
  }),
];
