// `npm run image`: builds the project's Dockerfile with buildah into local storage as localhost/kiln:dev —
// the image the process kubelet runs Kiln's own containers from, in tests and in the sandbox, exactly as
// a cluster runs the image `docker build` makes. Rebuilt only when its inputs changed (Dockerfile,
// .dockerignore, lock file, sources: see image-inputs.ts); buildah's layer cache keeps a rebuild after a
// source change to the last layers.
//
// The Dockerfile's base, node:24-bookworm-slim, is pulled when a registry is reachable; otherwise a stand-in
// with the same layout is made from Debian's mirror and the npm registry (base-image.ts). Where the npm
// registry is reached through a TLS-inspecting proxy, the machine's CA bundle is mounted for the build only
// (`buildah bud -v`, never into the image) and named to npm through a build argument of the deps stage.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { BASE_IMAGE, ensureBaseImage } from "./base-image.ts";
import { buildahEnv, INPUTS_LABEL, inputsDigest, KILN_IMAGE, kilnImageState, ROOT } from "./image-inputs.ts";

const OFFICIAL_BASE = "docker.io/library/node:24-bookworm-slim";
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
const BUILD_CA = "/run/kiln-build-ca.crt";
/** The Debian packages this script drives, by the command each provides. */
const TOOLS = { buildah: "buildah", debootstrap: "debootstrap" } as const;

const log = (line: string) => console.log(`image: ${line}`);

function has(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/** Installs missing Debian packages, as .ci/run does for its others (root only). */
function ensureTools(): void {
  const missing = Object.entries(TOOLS)
    .filter(([command]) => !has(command))
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new Error(
      `npm run image needs ${missing.join(", ")}: apt-get install ${missing.join(" ")} (as root)`,
    );
  log(`installing ${missing.join(", ")}`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", ...missing], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

function buildah(args: string[], stdio: "inherit" | "ignore" = "inherit"): boolean {
  return spawnSync("buildah", args, { stdio, env: buildahEnv() }).status === 0;
}

function imageID(image: string): string | undefined {
  const out = spawnSync("buildah", ["inspect", "--type", "image", "--format", "{{.FromImageID}}", image], {
    encoding: "utf8",
    env: buildahEnv(),
  });
  return out.status === 0 ? out.stdout.trim() : undefined;
}

/** The official base when it is here or can be pulled, else the stand-in. */
function base(): string {
  if (buildah(["inspect", "--type", "image", OFFICIAL_BASE], "ignore")) return OFFICIAL_BASE;
  if (buildah(["pull", "--quiet", OFFICIAL_BASE], "ignore")) return OFFICIAL_BASE;
  log(`${OFFICIAL_BASE} cannot be pulled here; using the stand-in ${BASE_IMAGE}`);
  return ensureBaseImage(log);
}

export function main(): number {
  if (process.getuid?.() !== 0) {
    console.error("npm run image: buildah stores images for root here; run it as root");
    return 2;
  }
  ensureTools();
  if (kilnImageState() === "fresh") {
    log(`${KILN_IMAGE} is up to date`);
    return 0;
  }
  const started = Date.now();
  const previous = imageID(KILN_IMAGE);
  const from = base();
  const args = [
    "bud",
    "--layers",
    "--build-arg",
    `BASE=${from}`,
    "--label",
    `${INPUTS_LABEL}=${inputsDigest()}`,
  ];
  if (existsSync(CA_BUNDLE))
    args.push("-v", `${CA_BUNDLE}:${BUILD_CA}:ro`, "--build-arg", `NODE_EXTRA_CA_CERTS=${BUILD_CA}`);
  args.push("-t", KILN_IMAGE, "-f", "Dockerfile", ROOT);
  log(`buildah ${args.join(" ")}`);
  if (!buildah(args)) {
    console.error("npm run image: buildah bud failed (see above)");
    return 1;
  }
  // The image this one replaces is left untagged: remove it (the layer cache keeps what a rebuild reuses).
  if (previous && previous !== imageID(KILN_IMAGE)) buildah(["rmi", previous], "ignore");
  log(`built ${KILN_IMAGE} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return 0;
}

if (import.meta.main) process.exitCode = main();
