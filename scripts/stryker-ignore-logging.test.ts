import assert from "node:assert/strict";
import { test } from "node:test";
import { isLoggingCall, onlyLogs } from "./stryker-ignore-logging.ts";

// Just enough of Babel's AST to build the shapes Kiln's code has.
type N = { type: string; [key: string]: unknown };
const id = (name: string): N => ({ type: "Identifier", name });
const member = (object: N, property: string, optional = false): N => ({
  type: optional ? "OptionalMemberExpression" : "MemberExpression",
  object,
  property: property.startsWith("#") ? { type: "PrivateName", id: id(property.slice(1)) } : id(property),
  computed: false,
});
const call = (callee: N, ...args: N[]): N => ({ type: "CallExpression", callee, arguments: args });
const statement = (expression: N): N => ({ type: "ExpressionStatement", expression });
const block = (...body: N[]): N => ({ type: "BlockStatement", body });
const text = (value: string): N => ({ type: "StringLiteral", value });
const self: N = { type: "ThisExpression" };

test("logging calls: any level on a logger, however it is reached", () => {
  const rows: [string, N, boolean][] = [
    ["log.warn(…)", call(member(id("log"), "warn"), text("x")), true],
    ["logger.info(…)", call(member(id("logger"), "info")), true],
    ["deps.log.info(…)", call(member(member(id("deps"), "log"), "info")), true],
    ["this.#o.log.child({…})", call(member(member(member(self, "#o"), "log"), "child")), true],
    ["this.#log?.info(…)", call(member(member(self, "#log"), "info", true)), true],
    ["log.child({…}).error(…)", call(member(call(member(id("log"), "child")), "error")), true],
    ["console.log(…) is not Kiln's logger", call(member(id("console"), "log")), false],
    ["log.flush() is not a log line", call(member(id("log"), "flush")), false],
    ["catalog.warn(…): not a logger", call(member(id("catalog"), "warn")), false],
    ["hooks.finish(…)", call(member(id("hooks"), "finish")), false],
    ["a plain call", call(id("warn")), false],
  ];
  for (const [what, node, expected] of rows) assert.equal(isLoggingCall(node), expected, what);
});

test("code that only logs: statements, blocks, ifs and arrows made of log calls alone", () => {
  const logs = statement(call(member(id("log"), "warn")));
  const acts = statement(call(member(id("hooks"), "finish")));
  const rows: [string, N, boolean][] = [
    ["a log statement", logs, true],
    ["a block of log statements", block(logs, logs), true],
    ["a block that also acts", block(logs, acts), false],
    ["an empty block (a mutant there is real)", block(), false],
    ["if (…) log", { type: "IfStatement", test: id("failed"), consequent: logs }, true],
    [
      "if (…) log else act",
      { type: "IfStatement", test: id("failed"), consequent: logs, alternate: acts },
      false,
    ],
    ["(err) => log.warn(…)", { type: "ArrowFunctionExpression", body: logs.expression }, true],
    ["(err) => { act }", { type: "ArrowFunctionExpression", body: block(acts) }, false],
    ["a string literal", text("could not record"), false],
  ];
  for (const [what, node, expected] of rows) assert.equal(onlyLogs(node), expected, what);
});
