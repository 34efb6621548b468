// `npm run mutate [-- group…] [--concurrency N]`: StrykerJS over the pure decision modules, one run per
// group (scripts/mutation-groups.ts) with only the tests that cover it, then the score of each module.
// Stryker's command runner runs `node --test` on the group's test files once per mutant, so a mutant is
// judged by exactly what `npm test` runs; instrumented files stay erasable TypeScript that Node runs as is.
// Not in CI: minutes of CPU, and a survivor is a question for a person, not a red build.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { MutantResult, PartialStrykerOptions } from "@stryker-mutator/api/core";
import { Stryker } from "@stryker-mutator/core";
import { MUTATION_GROUPS, type MutationGroup } from "./mutation-groups.ts";

const AIM = 90;

export interface ModuleScore {
  file: string;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  errors: number;
  /** Mutants in code that only logs (stryker-ignore-logging.ts): not made, not counted. */
  ignored: number;
  /** Detected (killed or timed out) of all valid mutants, in percent; errors do not count either way. */
  score: number;
}

export function scoreByModule(results: readonly MutantResult[]): ModuleScore[] {
  const byFile = new Map<string, ModuleScore>();
  for (const mutant of results) {
    const row = byFile.get(relative(process.cwd(), mutant.fileName)) ?? {
      file: relative(process.cwd(), mutant.fileName),
      killed: 0,
      timeout: 0,
      survived: 0,
      noCoverage: 0,
      errors: 0,
      ignored: 0,
      score: 0,
    };
    if (mutant.status === "Killed") row.killed++;
    else if (mutant.status === "Timeout") row.timeout++;
    else if (mutant.status === "Survived") row.survived++;
    else if (mutant.status === "NoCoverage") row.noCoverage++;
    else if (mutant.status === "CompileError" || mutant.status === "RuntimeError") row.errors++;
    else if (mutant.status === "Ignored") row.ignored++;
    byFile.set(row.file, row);
  }
  for (const row of byFile.values()) {
    const valid = row.killed + row.timeout + row.survived + row.noCoverage;
    row.score = valid === 0 ? 100 : (100 * (row.killed + row.timeout)) / valid;
  }
  return [...byFile.values()].sort((a, b) => a.file.localeCompare(b.file));
}

function strykerOptions(group: MutationGroup, concurrency: number): PartialStrykerOptions {
  // process.execPath: the Node 24 running this script, whatever PATH says (the machine's own node is older).
  const command = [
    process.execPath,
    "--test",
    "--test-isolation=none",
    "--test-reporter=dot",
    ...group.tests,
  ];
  return {
    testRunner: "command",
    commandRunner: { command: command.map((part) => JSON.stringify(part)).join(" ") },
    mutate: group.mutate,
    // The command runner cannot tell which test covers which mutant: every mutant runs the group's tests.
    coverageAnalysis: "off",
    concurrency,
    // Outside the checkout: a sandbox left by an interrupted run must not be found by `npm test`'s glob,
    // tsc or biome.
    tempDirName: mkdtempSync(join(tmpdir(), `kiln-mutate-${group.name}-`)),
    cleanTempDir: "always",
    // tsconfig.json: Stryker rewrites it through TypeScript's JS API, which TypeScript 7 does not have, and
    // Node's type stripping does not read it. .tools: kubectl and helm binaries no test here needs.
    ignorePatterns: ["/tsconfig.json", "/.tools"],
    plugins: ["@stryker-mutator/*", resolve(import.meta.dirname, "stryker-ignore-logging.ts")],
    ignorers: ["logging"],
    reporters: ["clear-text", "progress-append-only"],
    allowConsoleColors: process.stdout.isTTY === true,
    clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
    thresholds: { high: AIM, low: 80, break: null },
  };
}

function table(rows: readonly (ModuleScore & { group: string })[]): string {
  const lines = [
    "| group | module | score | killed | timeout | survived | no coverage | errors | logging (ignored) |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.group} | ${r.file} | ${r.score.toFixed(1)}% | ${r.killed} | ${r.timeout} | ${r.survived} | ${r.noCoverage} | ${r.errors} | ${r.ignored} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { concurrency: { type: "string", default: "2" }, help: { type: "boolean", default: false } },
  });
  if (values.help) {
    console.log(
      `npm run mutate [-- group…] [--concurrency N]\n\ngroups:\n${MUTATION_GROUPS.map(
        (g) => `  ${g.name}${g.disabled ? ` (disabled: ${g.disabled})` : ""}: ${g.mutate.join(", ")}`,
      ).join("\n")}`,
    );
    return;
  }
  const unknown = positionals.filter((name) => !MUTATION_GROUPS.some((g) => g.name === name));
  if (unknown.length > 0) throw new Error(`no mutation group ${unknown.join(", ")} (see --help)`);
  const groups =
    positionals.length > 0
      ? MUTATION_GROUPS.filter((g) => positionals.includes(g.name))
      : MUTATION_GROUPS.filter((g) => !g.disabled);
  const rows: (ModuleScore & { group: string })[] = [];
  for (const group of groups) {
    console.log(`\n=== ${group.name}: ${group.mutate.join(", ")} ← ${group.tests.join(", ")}`);
    const results = await new Stryker(strykerOptions(group, Number(values.concurrency))).runMutationTest();
    rows.push(...scoreByModule(results).map((row) => ({ ...row, group: group.name })));
  }
  console.log(`\nMutation score per module (aim ≥ ${AIM}%):\n\n${table(rows)}`);
  const low = rows.filter((r) => r.score < AIM);
  if (low.length > 0) console.log(`\nbelow ${AIM}%: ${low.map((r) => r.file).join(", ")}`);
  for (const group of MUTATION_GROUPS.filter((g) => g.disabled && !groups.includes(g))) {
    console.log(`not run: ${group.name} (${group.disabled})`);
  }
}

if (import.meta.main) await main();
