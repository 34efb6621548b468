#!/usr/bin/env node
// The launcher of Kiln's commands (package.json "bin"): plain JavaScript that any Node from 18 on runs.
// Kiln is TypeScript that Node 24 runs as it is; `npm ci` brings Node 24 (the `node` package), but the
// `node` on a developer's PATH may be older. So: on Node 24 or later the entry point is imported here;
// on an older one it is run by the project's Node 24, with the same arguments and stdio, signals
// passed on, and its exit code (or the signal that ended it) as ours.
//
// One launcher for every command: the name it was invoked by (npm links each "bin" name to this
// file) picks the entry point; run as itself (`node bin/kiln.mjs …`) it is `kiln`.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Entry points by command name, relative to this directory (kubectl-kiln: `kubectl kiln …`, the same CLI). */
const ENTRIES = { kiln: "kiln.ts", "kubectl-kiln": "kiln.ts" };
const MIN_MAJOR = 24;
// What a terminal or `kill` may send the launcher; each is passed on to the entry point.
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

const here = dirname(fileURLToPath(import.meta.url));
const name = basename(process.argv[1] ?? "kiln").replace(/\.m?js$/, "");
const entry = Object.hasOwn(ENTRIES, name) ? join(here, ENTRIES[name]) : undefined;

/** Node 24 of the `node` package, wherever npm put it (undefined when it is not installed). */
function projectNode() {
  try {
    const manifest = createRequire(import.meta.url).resolve("node/package.json");
    const bin = JSON.parse(readFileSync(manifest, "utf8")).bin;
    return join(dirname(manifest), typeof bin === "string" ? bin : bin.node);
  } catch {
    return undefined;
  }
}

if (entry === undefined) {
  console.error(`kiln launcher: no command is called "${name}" (known: ${Object.keys(ENTRIES).join(", ")})`);
  process.exit(2);
} else if (Number(process.versions.node.split(".")[0]) >= MIN_MAJOR) {
  await import(pathToFileURL(entry).href);
} else {
  const node = projectNode();
  if (node === undefined) {
    console.error(
      `${name}: needs Node ${MIN_MAJOR} or later (this is ${process.version}); npm ci installs it into node_modules`,
    );
    process.exit(1);
  }
  const child = spawn(node, [entry, ...process.argv.slice(2)], { stdio: "inherit" });
  const forward = (signal) => child.kill(signal);
  for (const signal of FORWARDED) process.on(signal, forward);
  child.on("error", (error) => {
    console.error(`${name}: cannot start ${node}: ${error.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward);
    // Ended by a signal: end the same way, so whoever started us sees that signal (shells print it).
    if (signal) process.kill(process.pid, signal);
    // Still here: a signal whose default is not to end a process.
    process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
  });
}
