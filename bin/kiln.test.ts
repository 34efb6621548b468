// The one CLI: every command loads and answers --help; unknown commands are a usage error (exit 2).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { test } from "node:test";

const kiln = (...args: string[]) =>
  spawnSync(process.execPath, [resolve(import.meta.dirname, "kiln.ts"), ...args], { encoding: "utf8" });

const COMMANDS = ["run", "agent", "fetch", "controller", "webhook", "store", "sandbox"];
const PEOPLE_COMMANDS = ["build", "get", "logs", "exec", "rerun", "cancel"];

test("kiln --help lists every command", () => {
  const result = kiln("--help");
  assert.equal(result.status, 0, result.stderr);
  for (const name of [...COMMANDS, ...PEOPLE_COMMANDS])
    assert.match(result.stdout, new RegExp(`^  kiln ${name} `, "m"));
});

test("an unknown command is a usage error, naming it", () => {
  const result = kiln("deploy");
  assert.equal(result.status, 2);
  assert.match(result.stderr, /unknown command "deploy"/);
});

for (const name of [...COMMANDS, ...PEOPLE_COMMANDS]) {
  test(`kiln ${name} --help loads the command and exits 0`, () => {
    const result = kiln(name, "--help");
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout + result.stderr, new RegExp(`kiln ${name}`));
  });
}
