// The shape of the codebase, checked: product code (api agent controllers webhook store lib bin cli, and
// the sandbox with the stand-ins it runs) never imports from test/ (the image carries no test code); the
// product's import graph has no cycle; the layers go one way (api imports nothing of Kiln's but api; lib
// only api and lib; agent, controllers, webhook and store never each other; the people's commands in
// cli/ only api and lib; the stand-ins know nothing of Kiln but api and lib, so they stay stand-ins for
// the real thing and not mirrors of Kiln's code).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

const root = resolve(import.meta.dirname, "..");
const PRODUCT = [
  "api",
  "agent",
  "controllers",
  "webhook",
  "store",
  "lib",
  "bin",
  "cli",
  "sandbox",
  "stand-ins",
];

function productFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) out.push(path);
    }
  };
  for (const dir of PRODUCT) walk(dir);
  return out.sort();
}

/** The repository-relative files a module imports (static and dynamic relative imports). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
  return specs.map((s) => relative(root, resolve(root, dirname(file), s)));
}

const files = productFiles();
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const top = (file: string) => file.split("/")[0]!;

test("no product module imports from test/", () => {
  const leaks = [...graph].flatMap(([file, deps]) =>
    deps.filter((d) => top(d) === "test").map((d) => `${file} → ${d}`),
  );
  assert.deepEqual(leaks, []);
});

test("the product's import graph has no cycle", () => {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      cycles.push([...path.slice(path.indexOf(file)), file].join(" → "));
      return;
    }
    state.set(file, "open");
    for (const dep of graph.get(file) ?? []) if (graph.has(dep)) visit(dep, [...path, file]);
    state.set(file, "done");
  };
  for (const file of files) visit(file, []);
  assert.deepEqual(cycles, []);
});

test("layers: api depends on nothing of Kiln's, lib on api only, agent/controllers/webhook/store not on each other, cli and stand-ins on api and lib only", () => {
  const allowed: Record<string, string[]> = {
    api: ["api"],
    lib: ["api", "lib"],
    agent: ["api", "lib", "agent"],
    controllers: ["api", "lib", "controllers", "agent"],
    webhook: ["api", "lib", "webhook"],
    store: ["api", "lib", "store"],
    bin: ["bin", "api", "lib", "agent", "controllers", "webhook", "store", "cli", "sandbox"],
    cli: ["cli", "api", "lib"],
    "stand-ins": ["stand-ins", "api", "lib"],
    sandbox: ["sandbox", "stand-ins", "api", "lib", "agent", "controllers", "webhook", "store"],
  };
  const wrong = [...graph].flatMap(([file, deps]) =>
    deps
      .filter((d) => PRODUCT.includes(top(d)) && !allowed[top(file)]!.includes(top(d)))
      .map((d) => `${file} → ${d}`),
  );
  assert.deepEqual(wrong, []);
});
