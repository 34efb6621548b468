import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { expectPositionals, parseCommand, positiveInt, UsageError } from "./args.ts";
import { parse as parseBuild } from "./build-command.ts";
import { wantsHelp } from "./command.ts";
import { parse as parseExec } from "./exec-command.ts";
import { parse as parseGet } from "./get-command.ts";
import { parse as parseLogs } from "./logs-command.ts";

describe("parseCommand: kubectl's connection options on every command", () => {
  test("--kubeconfig, --context and -n/--namespace, in every spelling, anywhere", () => {
    const a = parseCommand(["b1", "--kubeconfig", "/k", "--context=prod", "-n", "ci"], {});
    assert.deepEqual(a.connection, { kubeconfig: "/k", context: "prod", namespace: "ci" });
    assert.deepEqual(a.positionals, ["b1"]);
    assert.equal(parseCommand(["-nteam"], {}).connection.namespace, "team");
    assert.equal(parseCommand(["--namespace=team", "x"], {}).connection.namespace, "team");
    assert.deepEqual(parseCommand([], {}).connection, {
      kubeconfig: undefined,
      context: undefined,
      namespace: undefined,
    });
  });
  test("a command's own options, and what follows -- kept apart", () => {
    const p = parseCommand(["-f", "b", "--step", "test", "--", "sh", "-c", "ls -n"], {
      follow: { type: "boolean", short: "f" },
      step: { type: "string" },
    });
    assert.equal(p.values.follow, true);
    assert.equal(p.values.step, "test");
    assert.deepEqual(p.positionals, ["b"]);
    assert.deepEqual(p.rest, ["sh", "-c", "ls -n"]);
    assert.equal(parseCommand(["b"], {}).rest, undefined);
  });
  test("mistakes are usage errors that say what is wrong", () => {
    assert.throws(
      () => parseCommand(["--bogus"], {}),
      (e: Error) => e instanceof UsageError && e.message === "Unknown option '--bogus'",
    );
    assert.throws(() => parseCommand(["-n"], {}), UsageError);
    assert.throws(() => parseCommand(["--namespace="], {}), /--namespace needs a value/);
    assert.throws(() => expectPositionals({ positionals: [] }, 1, 1, "a build"), /expected a build/);
    assert.throws(
      () => expectPositionals({ positionals: ["a", "b"] }, 1, 1, "a build"),
      /unexpected argument "b"/,
    );
    assert.throws(() => positiveInt("0", "limit"), /--limit wants a positive whole number, not "0"/);
    assert.equal(positiveInt("20", "limit"), 20);
  });
  test("-h or --help before -- asks for the help, whatever else is wrong", () => {
    assert.equal(wantsHelp(["--bogus", "-h"]), true);
    assert.equal(wantsHelp(["b", "--help"]), true);
    assert.equal(wantsHelp(["b", "--", "ls", "--help"]), false);
  });
});

describe("each command's arguments", () => {
  test("kiln build <repository> [branch|sha] [--pause-on-failure] [--timeout]", () => {
    const p = parseBuild(["api", "main", "--pause-on-failure", "--timeout", "30m"]);
    assert.deepEqual([p.repository, p.wanted, p.pauseOnFailure, p.timeout], ["api", "main", true, "30m"]);
    assert.equal(parseBuild(["api"]).wanted, undefined);
    assert.throws(() => parseBuild([]), /expected a repository/);
    assert.throws(() => parseBuild(["api", "--timeout", "1 hour"]), /not a duration/);
  });
  test("kiln logs <build> [-f] [--step]", () => {
    const p = parseLogs(["b", "-f", "--step", "test"]);
    assert.deepEqual([p.build, p.follow, p.step], ["b", true, "test"]);
    assert.throws(() => parseLogs(["a", "b"]), /unexpected argument "b"/);
  });
  test("kiln logs --store: a URL, from the flag or KILN_STORE_URL; the token never in the clear off this machine", () => {
    assert.equal(parseLogs(["b", "--store", "http://127.0.0.1:8081"], {}).store, "http://127.0.0.1:8081");
    assert.equal(
      parseLogs(["b"], { KILN_STORE_URL: "https://store.example" }).store,
      "https://store.example",
    );
    assert.equal(parseLogs(["b"], { KILN_STORE_URL: "" }).store, undefined);
    assert.equal(parseLogs(["b", "--store", "http://[::1]:8081"], {}).store, "http://[::1]:8081");
    assert.throws(() => parseLogs(["b", "--store", "kiln-store"], {}), /is not a URL/);
    assert.throws(() => parseLogs(["b", "--store", "http://kiln-store.kiln.svc"], {}), /in the clear/);
    assert.throws(() => parseLogs(["b"], { KILN_STORE_URL: "http://10.0.0.7" }), /in the clear/);
  });
  test("kiln exec <build> [-- command]: sh unless a command follows --", () => {
    assert.deepEqual(parseExec(["b"]).command, ["sh"]);
    assert.deepEqual(parseExec(["b", "--", "ls", "-la"]).command, ["ls", "-la"]);
    assert.equal(parseExec(["-i", "b"]).stdin, true);
  });
  test("kiln get [repository] [-A] [--limit]", () => {
    const p = parseGet(["api", "--limit", "5"]);
    assert.deepEqual([p.repository, p.all, p.limit], ["api", false, 5]);
    assert.equal(parseGet(["-A"]).all, true);
  });
});
