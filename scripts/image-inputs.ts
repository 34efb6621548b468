// What Kiln's image is built from, and whether the image in local storage was built from exactly that:
// the Dockerfile, .dockerignore and every file of the build context they let through. `npm run image`
// labels the image with the digest; tests that run Kiln's own containers check the label before they
// start, so a stale image is an error with the fix in its message, never a silent run of old code.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve, sep } from "node:path";
import type { Ignore } from "@balena/dockerignore";

// A CommonJS module whose types declare an ES default export: loaded as what it is.
const dockerignore = createRequire(import.meta.url)("@balena/dockerignore") as (options?: {
  ignorecase?: boolean;
}) => Ignore;

export const KILN_IMAGE = "localhost/kiln:dev";
export const INPUTS_LABEL = "dev.kiln.inputs";
export const ROOT = resolve(import.meta.dirname, "..");

/** The build context's files (paths relative to root, "/"-separated, sorted), as .dockerignore filters them. */
export function contextFiles(all: string[], dockerignoreText: string): string[] {
  const ignore = dockerignore({ ignorecase: false }).add(dockerignoreText.split("\n"));
  return ignore.filter(all).sort();
}

function walk(root: string, dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === ".git" || entry.name === "node_modules" || entry.name === ".tools") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(root, path, out);
    else if (entry.isFile()) out.push(relative(root, path).split(sep).join("/"));
  }
}

/** sha256 over the Dockerfile, .dockerignore and each context file's path, mode and bytes. */
export function inputsDigest(root: string = ROOT): string {
  const all: string[] = [];
  walk(root, root, all);
  const files = contextFiles(all, readFileSync(join(root, ".dockerignore"), "utf8"));
  const hash = createHash("sha256");
  for (const file of ["Dockerfile", ".dockerignore", ...files]) {
    const path = join(root, file);
    hash.update(`${file}\0`);
    hash.update(readFileSync(path));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** A label of an image in local storage; undefined when the image is not there. */
export function imageLabel(image: string, label: string): string | undefined {
  try {
    const out = execFileSync(
      "buildah",
      ["inspect", "--type", "image", "--format", `{{index .OCIv1.Config.Labels "${label}"}}`, image],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], env: buildahEnv() },
    );
    return out.trim();
  } catch {
    return undefined;
  }
}

/** chroot isolation: the default (runc/crun) cannot set up containers on these machines. */
export function buildahEnv(): NodeJS.ProcessEnv {
  return { ...process.env, BUILDAH_ISOLATION: process.env.BUILDAH_ISOLATION ?? "chroot" };
}

export type ImageState = "fresh" | "stale" | "missing";

export function kilnImageState(root: string = ROOT): ImageState {
  const label = imageLabel(KILN_IMAGE, INPUTS_LABEL);
  if (label === undefined) return "missing";
  return label === inputsDigest(root) ? "fresh" : "stale";
}

/** Throws unless localhost/kiln:dev is in local storage, built from this checkout. */
export function requireKilnImage(root: string = ROOT): void {
  const state = kilnImageState(root);
  if (state !== "fresh") {
    throw new Error(
      `${KILN_IMAGE} is ${state === "missing" ? "not in local storage" : "older than this checkout"}: run \`npm run image\``,
    );
  }
}
